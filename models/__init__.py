"""Stage backends behind the contracts in `models.contracts`, classic and neural.

torch, diffusers and transformers are imported only inside the neural backends.
"""
