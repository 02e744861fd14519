"""Write the handwritten-digits sample data set as 8-bit grayscale PNGs.

Loads scikit-learn's bundled digits (1797 images, 8x8, values 0..16; shipped
inside the package, no download), scales each to 0..255 (round(v * 255 / 16))
and writes it once with cv2.imwrite as ``data/<split>/<index:05d>.png``, where
index is the image's position in the original data set. A seeded permutation
(numpy RandomState(0)) splits it deterministically:

* ``data/calib/`` -- the first 1000 of the permutation: used to train the model
  and to collect quantization statistics;
* ``data/test/``  -- the remaining 797: held out, never used in training.

Each split also gets ``labels.txt``: one ``<filename> <label>`` line per image,
sorted by filename. Re-running rewrites byte-identical files.

scikit-learn is needed only by this script, never by potq itself.
Run from the repo root:  python samples/digits/make_data.py
"""
from pathlib import Path

import cv2
import numpy as np
from sklearn.datasets import load_digits

HERE = Path(__file__).resolve().parent
N_CALIB = 1000


def main():
    digits = load_digits()
    # values are whole numbers 0..16; 8 -> 127.5 is the only tie (rounds to 128)
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    labels = digits.target

    order = np.random.RandomState(0).permutation(len(images))
    splits = {"calib": order[:N_CALIB], "test": order[N_CALIB:]}

    for name, indices in splits.items():
        out = HERE / "data" / name
        out.mkdir(parents=True, exist_ok=True)
        lines = []
        for i in sorted(indices):
            fname = f"{i:05d}.png"
            if not cv2.imwrite(str(out / fname), images[i]):
                raise OSError(f"cv2.imwrite failed for {out / fname}")
            lines.append(f"{fname} {labels[i]}\n")
        (out / "labels.txt").write_text("".join(lines))
        print(f"{name}: {len(lines)} images -> {out}")


if __name__ == "__main__":
    main()
