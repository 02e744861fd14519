"""Tiny models built with openvino's opset API: explicit names, fixed seeds, shapes of a few hundred values."""
import numpy as np
import openvino as ov
import openvino.opset13 as ops


def _rng(seed=0):
    return np.random.default_rng(seed)


def _conv(x, cin, cout, name, rng, k=3, bias=True, relu=True, scale=0.3):
    w = (rng.standard_normal((cout, cin, k, k)) * scale).astype(np.float32)
    y = ops.convolution(x, ops.constant(w, name=f"{name}/weights"), [1, 1], [k // 2] * 2, [k // 2] * 2, [1, 1],
                        name=name)
    if bias:
        b = (rng.standard_normal((1, cout, 1, 1)) * 0.1).astype(np.float32)
        y = ops.add(y, ops.constant(b, name=f"{name}/bias_value"), name=f"{name}/bias")
    return ops.relu(y, name=f"{name}/relu") if relu else y


def conv_relu(seed=0, batch=1, size=8, channels=3) -> ov.Model:
    """image -> conv1 (+bias, relu) -> conv2 (+bias) -> output."""
    rng = _rng(seed)
    x = ops.parameter([batch, channels, size, size], np.float32, name="image")
    y = _conv(x, channels, 8, "conv1", rng)
    y = _conv(y, 8, 4, "conv2", rng, relu=False)
    return ov.Model([ops.result(y, name="output")], [x], "conv_relu")


def channels_last(seed=0, channels=3) -> ov.Model:
    """image [1, 8, 8, C] (NHWC, no layout recorded) -> transpose to NCHW -> conv (+bias, relu) -> output."""
    rng = _rng(seed)
    x = ops.parameter([1, 8, 8, channels], np.float32, name="image")
    y = ops.transpose(x, ops.constant(np.array([0, 3, 1, 2], np.int64)), name="to_nchw")
    y = _conv(y, channels, 4, "conv", rng)
    return ov.Model([ops.result(y, name="output")], [x], "channels_last")


def residual(seed=0) -> ov.Model:
    """conv stem -> relu -> maxpool -> [conv+relu -> conv] + skip -> relu -> global mean -> fc."""
    rng = _rng(seed)
    x = ops.parameter([1, 3, 8, 8], np.float32, name="image")
    stem = _conv(x, 3, 8, "stem", rng)
    pooled = ops.max_pool(stem, [2, 2], [1, 1], [0, 0], [0, 0], [2, 2], name="pool").output(0)
    branch = _conv(pooled, 8, 8, "block.conv1", rng)
    branch = _conv(branch, 8, 8, "block.conv2", rng, relu=False)
    y = ops.relu(ops.add(branch, pooled, name="block.add"), name="block.relu")
    y = ops.reduce_mean(y, ops.constant(np.array([2, 3], np.int64)), False, name="gap")
    w = (rng.standard_normal((10, 8)) * 0.3).astype(np.float32)
    logits = ops.add(ops.matmul(y, ops.constant(w, name="fc/weights"), False, True, name="fc"),
                     ops.constant((rng.standard_normal(10) * 0.1).astype(np.float32)), name="fc/bias")
    return ov.Model([ops.result(logits, name="logits")], [x], "residual")


def concat_branches(seed=0) -> ov.Model:
    """Two conv branches concatenated, then a conv: the concat inputs share one range."""
    rng = _rng(seed)
    x = ops.parameter([1, 3, 8, 8], np.float32, name="image")
    a = _conv(x, 3, 4, "left", rng)
    b = _conv(x, 3, 4, "right", rng, scale=1.0)
    y = ops.concat([a, b], 1, name="concat")
    y = _conv(y, 8, 4, "head", rng, relu=False)
    return ov.Model([ops.result(y, name="output")], [x], "concat_branches")


def matmuls(seed=0, transpose_b=True) -> ov.Model:
    """tokens [1,4,16] -> dense (+bias, relu) -> dense: MatMul weights with either layout."""
    rng = _rng(seed)
    x = ops.parameter([1, 4, 16], np.float32, name="tokens")
    w1 = (rng.standard_normal((8, 16) if transpose_b else (16, 8)) * 0.3).astype(np.float32)
    y = ops.matmul(x, ops.constant(w1, name="dense1/weights"), False, transpose_b, name="dense1")
    y = ops.relu(ops.add(y, ops.constant((rng.standard_normal(8) * 0.1).astype(np.float32)), name="dense1/bias"))
    w2 = (rng.standard_normal((8, 6)) * 0.3).astype(np.float32)
    y = ops.matmul(y, ops.constant(w2, name="dense2/weights"), False, False, name="dense2")
    return ov.Model([ops.result(y, name="output")], [x], "matmuls")


def attention(seed=0) -> ov.Model:
    """q·kᵀ -> softmax -> ·v with q, k, v from dense layers: MatMuls whose inputs are both activations."""
    rng = _rng(seed)
    x = ops.parameter([1, 6, 8], np.float32, name="tokens")

    def dense(name):
        w = (rng.standard_normal((8, 8)) * 0.4).astype(np.float32)
        return ops.matmul(x, ops.constant(w, name=f"{name}/weights"), False, True, name=name)

    scores = ops.matmul(dense("q"), dense("k"), False, True, name="scores")
    probs = ops.softmax(scores, -1, name="softmax")
    context = ops.matmul(probs, dense("v"), False, False, name="context")
    return ov.Model([ops.result(context, name="output")], [x], "attention")


def two_inputs(seed=0) -> ov.Model:
    """Two inputs, added, then a conv: data must come as a dict keyed by input name."""
    rng = _rng(seed)
    a = ops.parameter([1, 3, 8, 8], np.float32, name="left")
    b = ops.parameter([1, 3, 8, 8], np.float32, name="right")
    y = _conv(ops.add(a, b, name="sum"), 3, 4, "conv", rng, relu=False)
    return ov.Model([ops.result(y, name="output")], [a, b], "two_inputs")


def dynamic_batch(seed=0) -> ov.Model:
    """conv_relu with batch dimension -1."""
    rng = _rng(seed)
    x = ops.parameter(ov.PartialShape([-1, 3, 8, 8]), np.float32, name="image")
    y = _conv(_conv(x, 3, 8, "conv1", rng), 8, 4, "conv2", rng, relu=False)
    return ov.Model([ops.result(y, name="output")], [x], "dynamic_batch")


def typed_input(element_type=np.uint8) -> ov.Model:
    """An image input of ``element_type`` (u8 pixels, i64 ids, ...) converted to f32, then conv_relu's convs."""
    rng = _rng(0)
    x = ops.parameter([1, 3, 8, 8], element_type, name="image")
    y = _conv(_conv(ops.convert(x, np.float32, name="to_float"), 3, 8, "conv1", rng), 8, 4, "conv2", rng, relu=False)
    return ov.Model([ops.result(y, name="output")], [x], "typed_input")


def no_quantizable_ops() -> ov.Model:
    x = ops.parameter([1, 3, 8, 8], np.float32, name="image")
    return ov.Model([ops.result(ops.relu(ops.sigmoid(x)), name="output")], [x], "elementwise_only")


def save(model: ov.Model, path) -> str:
    ov.save_model(model, str(path), compress_to_fp16=False)
    return str(path)


def random_inputs(model: ov.Model, count: int, seed: int = 0, batch: int = 1) -> list:
    """Inputs for ``model``: arrays for one input, dicts keyed by input name for several."""
    rng = _rng(seed)
    samples = []
    for _ in range(count):
        arrays = {}
        for port in model.inputs:
            shape = [batch if d.is_dynamic else d.get_length() for d in port.get_partial_shape()]
            arrays[port.get_any_name()] = rng.standard_normal(shape).astype(np.float32)
        samples.append(next(iter(arrays.values())) if len(arrays) == 1 else arrays)
    return samples


def classifier_with_outliers(seed=0, outliers=("conv2",), scale=2000.0) -> ov.Model:
    """image -> conv1 -> conv2 -> conv3 (each +bias, relu) -> mean -> fc (10 classes).

    For each layer named in ``outliers``, channel 0 of the tensor it reads is scaled up by ``scale`` (and its
    weights for that channel down): the FP32 function is unchanged, but per-tensor INT8 quantization of that
    tensor wipes out the other channels, so that layer is the one to revert.
    """
    rng = _rng(seed)
    x = ops.parameter([1, 3, 8, 8], np.float32, name="image")
    y, cin = x, 3
    for name in ("conv1", "conv2", "conv3"):
        w = (rng.standard_normal((8, cin, 3, 3)) * 0.4).astype(np.float32)
        b = (rng.standard_normal((1, 8, 1, 1)) * 0.1).astype(np.float32)
        if name in outliers:  # the producer's channel 0 was scaled up: undo it in this layer's weights
            w[:, 0] /= scale
        following = {"conv1": "conv2", "conv2": "conv3", "conv3": None}[name]
        if following in outliers:
            w[0] *= scale
            b[0, 0] *= scale
        conv = ops.convolution(y, ops.constant(w, name=f"{name}/weights"), [1, 1], [1, 1], [1, 1], [1, 1], name=name)
        y = ops.relu(ops.add(conv, ops.constant(b), name=f"{name}/bias"), name=f"{name}/relu")
        cin = 8
    y = ops.reduce_mean(y, ops.constant(np.array([2, 3], np.int64)), False, name="gap")
    w = (rng.standard_normal((10, 8)) * 0.5).astype(np.float32)
    logits = ops.matmul(y, ops.constant(w, name="fc/weights"), False, True, name="fc")
    return ov.Model([ops.result(logits, name="logits")], [x], "classifier_with_outliers")


def overflowing() -> ov.Model:
    """Finite inputs overflow float32 in the node named "overflow" (x * 1e38 * 1e38 = inf), then a conv."""
    x = ops.parameter([1, 3, 8, 8], np.float32, name="image")
    big = ops.multiply(ops.multiply(x, np.float32(1e38)), np.float32(1e38), name="overflow")
    y = _conv(big, 3, 4, "conv", _rng(0), relu=False)
    return ov.Model([ops.result(y, name="output")], [x], "overflowing")


def nan_producing() -> ov.Model:
    """Finite inputs give NaN in the node named "sqrt" (square root of negative values), then a conv."""
    x = ops.parameter([1, 3, 8, 8], np.float32, name="image")
    y = _conv(ops.sqrt(x, name="sqrt"), 3, 4, "conv", _rng(0), relu=False)
    return ov.Model([ops.result(y, name="output")], [x], "nan_producing")


def linear_pair(seed=0, wide_channel_scale=50.0) -> ov.Model:
    """image -> 1x1 conv "producer" (+bias) -> 1x1 conv "consumer" (+bias), nothing in between: a pair
    ActivationChannelAlignment can align. Channel 0 of the tensor between them is ``wide_channel_scale`` x wider."""
    rng = _rng(seed)
    x = ops.parameter([1, 3, 8, 8], np.float32, name="image")
    w1 = (rng.standard_normal((8, 3, 1, 1)) * 0.5).astype(np.float32)
    b1 = (rng.standard_normal((1, 8, 1, 1)) * 0.1 + 0.5).astype(np.float32)
    w1[0] *= wide_channel_scale
    b1[0] *= wide_channel_scale
    y = ops.convolution(x, ops.constant(w1), [1, 1], [0, 0], [0, 0], [1, 1], name="producer")
    y = ops.add(y, ops.constant(b1), name="producer/bias")
    w2 = (rng.standard_normal((4, 8, 1, 1)) * 0.5).astype(np.float32)
    w2[:, 0] /= wide_channel_scale
    y = ops.convolution(y, ops.constant(w2), [1, 1], [0, 0], [0, 0], [1, 1], name="consumer")
    y = ops.add(y, ops.constant((rng.standard_normal((1, 4, 1, 1)) * 0.1).astype(np.float32)), name="consumer/bias")
    return ov.Model([ops.result(y, name="output")], [x], "linear_pair")


def transformer_block(seed=0, outlier=30.0, sdpa=False) -> ov.Model:
    """tokens [1,8,16] -> LayerNorm (MVN, gamma with channel 0 ``outlier`` x larger, as trained transformers have)
    -> q, k, v dense (whose weights damp channel 0) -> attention (MatMul -> Softmax -> MatMul, or one
    ScaledDotProductAttention between head reshapes) -> out dense. The outlier channel sets the per-tensor range
    of the LayerNorm output and crushes the other channels, which carry the signal."""
    rng = _rng(seed)
    x = ops.parameter([1, 8, 16], np.float32, name="tokens")
    normed = ops.mvn(x, ops.constant(np.array([-1], np.int64)), True, 1e-5, "inside_sqrt", name="ln/mvn")
    gamma = np.ones(16, np.float32)
    gamma[0] = outlier
    hidden = ops.add(ops.multiply(normed, ops.constant(gamma)), ops.constant(np.full(16, 0.1, np.float32)), name="ln")

    def dense(source, name, damp_channel_0=1.0):
        w = (rng.standard_normal((16, 16)) * 0.3).astype(np.float32)
        w[:, 0] /= damp_channel_0
        return ops.matmul(source, ops.constant(w, name=f"{name}/weights"), False, True, name=name)

    # the layers reading the LayerNorm damp its outlier channel: the output depends on all channels alike
    q, k, v = (dense(hidden, name, damp_channel_0=outlier) for name in ("q", "k", "v"))
    if sdpa:  # two heads, split and merged with Reshape and Transpose as exporters write them
        def heads(t):
            return ops.transpose(ops.reshape(t, ops.constant(np.array([1, 8, 2, 8], np.int64)), False),
                                 ops.constant(np.array([0, 2, 1, 3], np.int64)))
        attended = ops.scaled_dot_product_attention(heads(q), heads(k), heads(v), causal=False, name="attention")
        merged = ops.transpose(attended, ops.constant(np.array([0, 2, 1, 3], np.int64)))
        context = ops.reshape(merged, ops.constant(np.array([1, 8, 16], np.int64)), False, name="context")
    else:
        scores = ops.multiply(ops.matmul(q, k, False, True, name="scores"), np.float32(0.25), name="scale")
        context = ops.matmul(ops.softmax(scores, -1, name="softmax"), v, False, False, name="context")
    return ov.Model([ops.result(dense(context, "out"), name="output")], [x], "transformer_block")


def exported_conv_bias(seed=0) -> ov.Model:
    """image -> conv -> Add(bias) -> relu -> conv, with each bias reshaped to [1, C, 1, 1] by a shape computed from
    ShapeOf and Concat, as ONNX exporters write it: constant, but only once that subgraph is folded."""
    rng = _rng(seed)
    x = ops.parameter([1, 3, 8, 8], np.float32, name="image")

    def conv(source, cin, cout, name):
        weights = ops.constant((rng.standard_normal((cout, cin, 3, 3)) * 0.4).astype(np.float32), name=f"{name}/w")
        y = ops.convolution(source, weights, [1, 1], [1, 1], [1, 1], [1, 1], name=name)
        channels = ops.gather(ops.shape_of(weights), ops.constant(np.array([0], np.int64)), ops.constant(0))
        shape = ops.concat([ops.constant(np.array([1], np.int64)), channels,
                            ops.constant(np.array([1, 1], np.int64))], 0)
        bias = ops.reshape(ops.constant((rng.standard_normal(cout) * 0.1).astype(np.float32)), shape, False)
        return ops.add(y, bias, name=f"{name}/bias")

    y = ops.relu(conv(x, 3, 8, "conv1"), name="conv1/relu")
    return ov.Model([ops.result(conv(y, 8, 4, "conv2"), name="output")], [x], "exported_conv_bias")


def depthwise_block(seed=0) -> ov.Model:
    """image -> conv1 (3->8, relu) -> depthwise 3x3 GroupConvolution "dw" (8 groups of one channel, +bias) ->
    relu -> 1x1 conv "project" (8->4), as in MobileNet-style backbones."""
    rng = _rng(seed)
    x = ops.parameter([1, 3, 8, 8], np.float32, name="image")
    y = _conv(x, 3, 8, "conv1", rng)
    weights = (rng.standard_normal((8, 1, 1, 3, 3)) * 0.5).astype(np.float32)
    y = ops.group_convolution(y, ops.constant(weights, name="dw/weights"), [1, 1], [1, 1], [1, 1], [1, 1], name="dw")
    y = ops.relu(ops.add(y, ops.constant((rng.standard_normal((1, 8, 1, 1)) * 0.1).astype(np.float32)),
                         name="dw/bias"), name="dw/relu")
    return ov.Model([ops.result(_conv(y, 8, 4, "project", rng, k=1, relu=False), name="output")], [x],
                    "depthwise_block")
