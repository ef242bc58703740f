"""A remote-code model with BiRefNet's contract, written next to tiny checkpoints.

The files in this folder are copied verbatim into a checkpoint directory and named in
its `config.json` `auto_map`, so that
`AutoModelForImageSegmentation.from_pretrained(DIR, trust_remote_code=True)` loads it
exactly as it loads the published BiRefNet: 1024x1024 normalised input in, a list of
logit maps out, the last one the finest.
"""

from pathlib import Path

REMOTE_FILES = ("configuration_tiny_birefnet.py", "modeling_tiny_birefnet.py")
FOLDER = Path(__file__).resolve().parent
AUTO_MAP = {
    "AutoConfig": "configuration_tiny_birefnet.TinyBiRefNetConfig",
    "AutoModelForImageSegmentation": "modeling_tiny_birefnet.TinyBiRefNet",
}
