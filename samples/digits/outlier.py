"""Write model/digits_outlier.xml: the digits CNN with one activation channel scaled up 300x.

The FP32 function is unchanged (res.conv1's channel 0 is multiplied by 300 and res.conv2 divides its matching
input channel by 300; ReLU commutes with positive scaling), but the tensor between the two convolutions now
has an outlier channel. Per-tensor INT8 quantization of that tensor loses the other 31 channels, so
DefaultQuantization drops about 3.5 points of top-1 and AccuracyAwareQuantization has a layer to revert
(config_aaq.yaml). Run from the repo root:  python samples/digits/outlier.py
"""
from pathlib import Path

import openvino as ov
import openvino.opset13 as ops

HERE = Path(__file__).resolve().parent


def with_outlier_channel(model: ov.Model, producer: str, consumer: str, channel: int, scale: float) -> ov.Model:
    """``model`` with one output channel of Convolution ``producer`` scaled up and ``consumer``'s matching input
    channel scaled down: the same function in FP32, but the tensor between them gets an outlier channel, so
    per-tensor INT8 quantization of it loses the other channels (a layer AccuracyAwareQuantization must revert).

    ``producer`` must feed ``consumer`` through a bias Add and ReLU (positive scaling commutes with both).
    """
    edited = model.clone()
    nodes = {node.get_friendly_name(): node for node in edited.get_ordered_ops()}

    def scale_channel(node, port, axis, factor):
        data = node.input_value(port).get_node().get_data().copy()
        index = [slice(None)] * data.ndim
        index[axis] = channel
        data[tuple(index)] *= factor
        node.input(port).replace_source_output(ops.constant(data).output(0))

    bias_add = next(iter(nodes[producer].output(0).get_target_inputs())).get_node()
    bias_port = 1 if bias_add.input_value(1).get_node().get_type_name() == "Constant" else 0
    scale_channel(nodes[producer], 1, 0, scale)  # the producer's output channel ...
    scale_channel(bias_add, bias_port, 1, scale)  # ... and its bias
    scale_channel(nodes[consumer], 1, 1, 1.0 / scale)  # the consumer's matching input channel
    edited.validate_nodes_and_infer_types()
    return edited


def main():
    model = ov.Core().read_model(HERE / "model" / "digits.xml")
    outlier = with_outlier_channel(model, "res.conv1", "res.conv2", channel=0, scale=300.0)
    ov.save_model(outlier, HERE / "model" / "digits_outlier.xml", compress_to_fp16=False)


if __name__ == "__main__":
    main()
