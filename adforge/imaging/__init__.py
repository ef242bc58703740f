"""Imaging core: numpy/OpenCV/Pillow only. See `adforge.specs` for array conventions."""
