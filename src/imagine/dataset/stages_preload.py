"""Imported once by the process pool's fork server, so every forked worker starts warm.

Besides the stages themselves, what their first batch would otherwise import lazily in each
worker (measured at about 0.5 CPU-seconds per worker): pandas (pyarrow's timestamp conversion),
scipy's FFT (the perceptual hash) and Pillow's format plugins.
"""

import pandas  # noqa: F401
import scipy.fft  # noqa: F401
from PIL import Image

from imagine.dataset import caption, consent, load, recaption, transform  # noqa: F401

Image.init()
