"""Train the small digits CNN and export it as an FP32 OpenVINO IR.

Reads the PNGs written by make_data.py with cv2.imread(..., IMREAD_GRAYSCALE),
exactly as an inference-time loader does, and feeds the raw pixels as float32
NCHW [N, 1, 8, 8] in 0..255: the network normalizes them itself as its first
op, so train and inference preprocessing cannot drift apart.

Trains on data/calib only (data/test stays held out), deterministically
(fixed seeds, deterministic algorithms, one thread), then writes
model/digits.xml + .bin (static input "image" [1,1,8,8], output "logits" [1,10])
and checks the IR's top-1 accuracy on data/test with the OpenVINO runtime (f32).

torch==2.13.0 (CPU build) is needed only to retrain this sample, never at
runtime. From the repo root, after make_data.py:

    pip install torch==2.13.0 openvino numpy opencv-python-headless
    python samples/digits/train.py
"""
import time
from pathlib import Path

import cv2
import numpy as np
import openvino as ov
import torch
import torch.nn.functional as F
from torch import nn

HERE = Path(__file__).resolve().parent
EPOCHS = 40
BATCH = 50


def load_split(split):
    """Return (images float32 [N,1,8,8] in 0..255, labels int64 [N])."""
    root = HERE / "data" / split
    images, labels = [], []
    for line in (root / "labels.txt").read_text().splitlines():
        fname, label = line.split()
        img = cv2.imread(str(root / fname), cv2.IMREAD_GRAYSCALE)
        images.append(img.astype(np.float32)[None])
        labels.append(int(label))
    return np.stack(images), np.array(labels, dtype=np.int64)


def conv_bn(cin, cout):
    # no conv bias: the following BatchNorm's shift makes it redundant
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout))


class DigitsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(1, 16), nn.ReLU(), conv_bn(16, 32), nn.ReLU(), nn.MaxPool2d(2))
        self.res = nn.Sequential(conv_bn(32, 32), nn.ReLU(), conv_bn(32, 32))
        self.fc = nn.Linear(32, 10)

    def forward(self, image):  # arg name becomes the IR input name
        x = image * (1.0 / 255.0) - 0.5  # raw 0..255 pixels in, normalization lives in the model
        x = self.stem(x)
        x = F.relu(x + self.res(x))  # residual block with identity skip
        x = x.mean(dim=(2, 3))  # global average pool + flatten
        return self.fc(x)  # logits, no softmax


def shift(x, gen):
    """Random shift of each image by -1..1 pixels in x and y (zero fill)."""
    n = x.shape[0]
    padded = F.pad(x, (1, 1, 1, 1))
    dy = torch.randint(0, 3, (n,), generator=gen)
    dx = torch.randint(0, 3, (n,), generator=gen)
    return torch.stack([padded[i, :, dy[i]:dy[i] + 8, dx[i]:dx[i] + 8] for i in range(n)])


def main():
    start = time.time()
    torch.manual_seed(0)
    np.random.seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)

    x_train, y_train = map(torch.from_numpy, load_split("calib"))
    x_test, y_test = load_split("test")

    model = DigitsNet()
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    for epoch in range(1, EPOCHS + 1):
        model.train()
        perm = torch.randperm(len(x_train), generator=gen)
        total = 0.0
        for i in range(0, len(perm), BATCH):
            idx = perm[i:i + BATCH]
            loss = F.cross_entropy(model(shift(x_train[idx], gen)), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        if epoch % 5 == 0 or epoch == 1:
            print(f"epoch {epoch:3d}  train loss {total / len(perm):.4f}")

    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(x_test)).argmax(1).numpy()
    print(f"torch test top-1: {(pred == y_test).mean():.4f} ({(pred == y_test).sum()}/{len(y_test)})")

    # Static shape [1,1,8,8]; "image" must match forward()'s argument name.
    # compress_to_fp16=False keeps the weights true FP32.
    ov_model = ov.convert_model(model, example_input=torch.zeros(1, 1, 8, 8), input=[("image", [1, 1, 8, 8])])
    ov_model.outputs[0].get_tensor().set_names({"logits"})  # default is a traced number
    # Batch-norm folding leaves the convolutions with generated names (Multiply_3057...); give them stable,
    # readable ones so ignored scopes and reports can name them.
    convs = [op for op in ov_model.get_ordered_ops() if op.get_type_name() == "Convolution"]
    for op, name in zip(convs, ["stem.conv1", "stem.conv2", "res.conv1", "res.conv2"], strict=True):
        op.set_friendly_name(name)
    xml = HERE / "model" / "digits.xml"
    xml.parent.mkdir(exist_ok=True)
    ov.save_model(ov_model, xml, compress_to_fp16=False)

    # Check the saved IR, not the in-memory model: op types (batch norm should be
    # folded into the convolutions) and accuracy with the runtime in f32.
    core = ov.Core()
    ir = core.read_model(xml)
    print("IR ops:", " ".join(op.get_type_name() for op in ir.get_ordered_ops()))
    compiled = core.compile_model(ir, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    correct = 0
    for img, label in zip(x_test, y_test, strict=True):
        logits = request.infer({"image": img[None]})[compiled.output(0)]
        correct += int(logits.argmax() == label)
    print(f"OpenVINO IR (CPU, f32) test top-1: {correct / len(y_test):.4f} ({correct}/{len(y_test)})")
    print(f"done in {time.time() - start:.1f}s")


if __name__ == "__main__":
    main()
