"""Neural stage backends (BiRefNet, FLUX, ...). Each module imports torch and the
Hugging Face libraries itself; importing this package imports none of them."""
