"""Benchmark models built with OpenVINO's opset API (fixed seed, random weights): no downloads needed.

resnet_like(): ResNet-18 topology (conv+bias as after batch-norm folding, ReLU, max-pool, 8 basic blocks,
global average pool, fully connected) on a 3x224x224 input.
transformer_encoder(): a BERT-style encoder (multi-head self-attention, LayerNorm as MVN, GELU feed-forward)
over [1, 128, 256] embeddings.
text_recognizer(): a PP-OCR-style text-line recognizer (depthwise-separable CNN, two attention blocks, CTC
head) on a 3x48x320 input.
"""
import numpy as np
import openvino as ov
import openvino.opset13 as ops


class _Weights:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def conv(self, cout, cin, k, gain=1.0):
        std = gain * np.sqrt(2.0 / (cin * k * k))
        return (self.rng.standard_normal((cout, cin, k, k)) * std).astype(np.float32)

    def dense(self, cin, cout, gain=1.0):
        return (self.rng.standard_normal((cout, cin)) * gain * np.sqrt(1.0 / cin)).astype(np.float32)

    def bias(self, n, scale=0.05):
        return (self.rng.standard_normal(n) * scale).astype(np.float32)


def _conv_bias(x, w: _Weights, cin, cout, k, stride, name, gain=1.0, relu=True):
    pad = k // 2
    conv = ops.convolution(x, ops.constant(w.conv(cout, cin, k, gain)), [stride, stride], [pad, pad], [pad, pad],
                           [1, 1], name=name)
    y = ops.add(conv, ops.constant(w.bias(cout).reshape(1, cout, 1, 1)), name=f"{name}/bias")
    return ops.relu(y, name=f"{name}/relu") if relu else y


def _basic_block(x, w, cin, cout, stride, name):
    y = _conv_bias(x, w, cin, cout, 3, stride, f"{name}.conv1")
    y = _conv_bias(y, w, cout, cout, 3, 1, f"{name}.conv2", gain=0.5, relu=False)
    skip = x if stride == 1 and cin == cout else _conv_bias(x, w, cin, cout, 1, stride, f"{name}.down", relu=False)
    return ops.relu(ops.add(y, skip, name=f"{name}.add"), name=f"{name}.relu")


def resnet_like(seed: int = 0, size: int = 224) -> ov.Model:
    w = _Weights(seed)
    image = ops.parameter([1, 3, size, size], np.float32, name="image")
    x = _conv_bias(image, w, 3, 64, 7, 2, "stem.conv")
    x = ops.max_pool(x, [2, 2], [1, 1], [1, 1], [1, 1], [3, 3], name="stem.pool").output(0)
    cin = 64
    for stage, cout in enumerate([64, 128, 256, 512]):
        for block in range(2):
            stride = 2 if stage > 0 and block == 0 else 1
            x = _basic_block(x, w, cin, cout, stride, f"layer{stage + 1}.{block}")
            cin = cout
    x = ops.reduce_mean(x, ops.constant(np.array([2, 3], np.int64)), keep_dims=False, name="pool")
    logits = ops.add(ops.matmul(x, ops.constant(w.dense(512, 1000)), False, True, name="fc"),
                     ops.constant(w.bias(1000)), name="fc/bias")
    return ov.Model([logits], [image], "resnet_like")


def _layer_norm(x, hidden, w, name):
    y = ops.mvn(x, ops.constant(np.array([-1], np.int64)), True, 1e-5, "inside_sqrt", name=f"{name}/mvn")
    gamma = (1.0 + w.bias(hidden, 0.02)).astype(np.float32)
    return ops.add(ops.multiply(y, ops.constant(gamma)), ops.constant(w.bias(hidden, 0.02)), name=name)


def _dense(x, w, cin, cout, name):
    y = ops.matmul(x, ops.constant(w.dense(cin, cout)), False, True, name=name)
    return ops.add(y, ops.constant(w.bias(cout)), name=f"{name}/bias")


def _encoder_layer(x, w, seq, hidden, heads, name):
    head = hidden // heads

    def split_heads(t, label):
        t = ops.reshape(t, ops.constant(np.array([1, seq, heads, head], np.int64)), False)
        return ops.transpose(t, ops.constant(np.array([0, 2, 1, 3], np.int64)), name=f"{name}.{label}/heads")

    q = split_heads(_dense(x, w, hidden, hidden, f"{name}.q"), "q")
    k = split_heads(_dense(x, w, hidden, hidden, f"{name}.k"), "k")
    v = split_heads(_dense(x, w, hidden, hidden, f"{name}.v"), "v")
    scores = ops.matmul(q, k, False, True, name=f"{name}.scores")
    scores = ops.multiply(scores, ops.constant(np.float32(1.0 / np.sqrt(head))))
    probs = ops.softmax(scores, -1, name=f"{name}.softmax")
    context = ops.matmul(probs, v, False, False, name=f"{name}.context")
    context = ops.transpose(context, ops.constant(np.array([0, 2, 1, 3], np.int64)))
    context = ops.reshape(context, ops.constant(np.array([1, seq, hidden], np.int64)), False)
    attn = _dense(context, w, hidden, hidden, f"{name}.out")
    x = _layer_norm(ops.add(x, attn, name=f"{name}.attn_residual"), hidden, w, f"{name}.ln1")
    ff = ops.gelu(_dense(x, w, hidden, 4 * hidden, f"{name}.ff1"), "erf", name=f"{name}.gelu")
    ff = _dense(ff, w, 4 * hidden, hidden, f"{name}.ff2")
    return _layer_norm(ops.add(x, ff, name=f"{name}.ff_residual"), hidden, w, f"{name}.ln2")


def transformer_encoder(seed: int = 0, seq: int = 128, hidden: int = 256, heads: int = 4, layers: int = 4) -> ov.Model:
    w = _Weights(seed)
    embeddings = ops.parameter([1, seq, hidden], np.float32, name="embeddings")
    x = embeddings
    for i in range(layers):
        x = _encoder_layer(x, w, seq, hidden, heads, f"layer{i}")
    return ov.Model([x], [embeddings], "transformer_encoder")


def _conv_hswish(x, w: _Weights, cin, cout, kernel, stride, name, groups=1):
    kh, kw = kernel
    if groups == 1:
        weights = w.conv(cout, cin, kh)[:, :, :kh, :kw] if kh == kw else \
            (w.rng.standard_normal((cout, cin, kh, kw)) * np.sqrt(2.0 / (cin * kh * kw))).astype(np.float32)
    else:  # depthwise: one filter per channel
        weights = (w.rng.standard_normal((groups, 1, 1, kh, kw)) * np.sqrt(2.0 / (kh * kw))).astype(np.float32)
    pads = [kh // 2, kw // 2]
    if groups == 1:
        y = ops.convolution(x, ops.constant(weights), list(stride), pads, pads, [1, 1], name=name)
    else:
        y = ops.group_convolution(x, ops.constant(weights), list(stride), pads, pads, [1, 1], name=name)
    y = ops.add(y, ops.constant(w.bias(cout).reshape(1, cout, 1, 1)), name=f"{name}/bias")
    return ops.hswish(y, name=f"{name}/hswish")


def _mixing_block(x, w: _Weights, seq, hidden, heads, name):
    """SVTR's global mixing block: pre-norm multi-head self-attention and an MLP, both residual."""
    head = hidden // heads
    y = ops.mvn(x, ops.constant(np.array([-1], np.int64)), True, 1e-5, "inside_sqrt", name=f"{name}.norm1")
    qkv = ops.reshape(_dense(y, w, hidden, 3 * hidden, f"{name}.qkv"),
                      ops.constant(np.array([1, seq, 3, heads, head], np.int64)), False)
    qkv = ops.transpose(qkv, ops.constant(np.array([2, 0, 3, 1, 4], np.int64)), name=f"{name}.heads")
    q, k, v = (ops.squeeze(part, ops.constant(np.array([0], np.int64))) for part in ops.split(qkv, 0, 3).outputs())
    scores = ops.multiply(ops.matmul(q, k, False, True, name=f"{name}.scores"),
                          ops.constant(np.float32(1.0 / np.sqrt(head))))
    context = ops.matmul(ops.softmax(scores, -1), v, False, False, name=f"{name}.context")
    context = ops.reshape(ops.transpose(context, ops.constant(np.array([0, 2, 1, 3], np.int64))),
                          ops.constant(np.array([1, seq, hidden], np.int64)), False)
    x = ops.add(x, _dense(context, w, hidden, hidden, f"{name}.proj"), name=f"{name}.attn_residual")
    y = ops.mvn(x, ops.constant(np.array([-1], np.int64)), True, 1e-5, "inside_sqrt", name=f"{name}.norm2")
    y = _dense(ops.swish(_dense(y, w, hidden, 2 * hidden, f"{name}.fc1")), w, 2 * hidden, hidden, f"{name}.fc2")
    return ops.add(x, y, name=f"{name}.mlp_residual")


# PP-LCNet-style backbone of a text recognizer: (output channels, depthwise stride) per depthwise-separable block
_RECOGNIZER_BLOCKS = [(16, (1, 1)), (32, (2, 2)), (32, (1, 1)), (64, (2, 1)), (64, (1, 1)), (128, (2, 1)),
                      (128, (1, 1)), (128, (1, 1)), (128, (1, 1)), (128, (1, 1)), (128, (1, 1)), (256, (1, 2)),
                      (256, (1, 1))]


def text_recognizer(seed: int = 0, height: int = 48, width: int = 320, classes: int = 97) -> ov.Model:
    """A PP-OCR-style text-line recognizer (SVTR-LCNet shape): a depthwise-separable CNN backbone, an SVTR neck
    with two attention blocks over the width, and a CTC head giving ``classes`` logits per column (19
    Convolutions, 13 GroupConvolutions, 9 MatMuls with weights and 4 between activations)."""
    w = _Weights(seed)
    image = ops.parameter([1, 3, height, width], np.float32, name="image")
    x = _conv_hswish(image, w, 3, 8, (3, 3), (2, 2), "backbone.stem")
    cin = 8
    for i, (cout, stride) in enumerate(_RECOGNIZER_BLOCKS):
        x = _conv_hswish(x, w, cin, cin, (3, 3), stride, f"backbone.block{i}.dw", groups=cin)
        x = _conv_hswish(x, w, cin, cout, (1, 1), (1, 1), f"backbone.block{i}.pw")
        cin = cout
    features = ops.reduce_mean(x, ops.constant(np.array([2], np.int64)), keep_dims=True, name="backbone.pool")
    seq, hidden = width // 8, 120
    y = _conv_hswish(features, w, cin, 64, (1, 3), (1, 1), "neck.conv1")
    y = _conv_hswish(y, w, 64, hidden, (1, 1), (1, 1), "neck.conv2")
    tokens = ops.transpose(ops.reshape(y, ops.constant(np.array([1, hidden, seq], np.int64)), False),
                           ops.constant(np.array([0, 2, 1], np.int64)))
    for i in range(2):
        tokens = _mixing_block(tokens, w, seq, hidden, 8, f"neck.mixer{i}")
    y = ops.reshape(ops.transpose(tokens, ops.constant(np.array([0, 2, 1], np.int64))),
                    ops.constant(np.array([1, hidden, 1, seq], np.int64)), False)
    y = _conv_hswish(y, w, hidden, cin, (1, 1), (1, 1), "neck.conv3")
    y = ops.concat([features, y], 1, name="neck.concat")
    y = _conv_hswish(y, w, 2 * cin, 64, (1, 3), (1, 1), "neck.conv4")
    y = _conv_hswish(y, w, 64, 64, (1, 1), (1, 1), "neck.conv5")
    columns = ops.transpose(ops.reshape(y, ops.constant(np.array([1, 64, seq], np.int64)), False),
                            ops.constant(np.array([0, 2, 1], np.int64)))
    logits = _dense(columns, w, 64, classes, "head.fc")
    return ov.Model([logits], [image], "text_recognizer")
