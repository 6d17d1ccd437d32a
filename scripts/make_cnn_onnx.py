#!/usr/bin/python3
"""Writes a small PyTorch-style image CNN as ONNX with onnx's own helper (Debian
python3-onnx), the graph torch.onnx.export gives for

    Conv(3->16, 3x3, stride 2) -> BatchNorm -> ReLU -> MaxPool(2)
    -> Conv(16->32, 3x3, stride 2) -> BatchNorm -> ReLU
    -> GlobalAveragePool -> Flatten -> Linear(32 -> classes)

input "input" FLOAT [batch, 3, size, size], output "output" (logits) and
"features" (the pooled penultimate activations). Weights are seeded random
numbers: the file is for serving and load tests, not for accuracy.

usage: make_cnn_onnx.py OUT.onnx [--size 224] [--classes 10] [--seed 7]
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    inits, nodes = [], []

    def param(name, shape, scale):
        arr = (rng.standard_normal(shape) * scale).astype(np.float32)
        inits.append(numpy_helper.from_array(arr, name))
        return name

    def conv_bn_relu(x, cin, cout, prefix):
        w = param(prefix + ".weight", (cout, cin, 3, 3), np.sqrt(2.0 / (cin * 9)))
        b = param(prefix + ".bias", (cout,), 0.01)
        nodes.append(helper.make_node("Conv", [x, w, b], [prefix + "_conv"], name="/" + prefix + "/Conv",
                                      kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
        gamma = numpy_helper.from_array((1 + 0.1 * rng.standard_normal(cout)).astype(np.float32),
                                        prefix + "_bn.weight")
        beta = numpy_helper.from_array((0.1 * rng.standard_normal(cout)).astype(np.float32),
                                       prefix + "_bn.bias")
        mean = numpy_helper.from_array((0.1 * rng.standard_normal(cout)).astype(np.float32),
                                       prefix + "_bn.running_mean")
        var = numpy_helper.from_array((1 + 0.1 * rng.random(cout)).astype(np.float32),
                                      prefix + "_bn.running_var")
        inits.extend([gamma, beta, mean, var])
        nodes.append(helper.make_node(
            "BatchNormalization",
            [prefix + "_conv", gamma.name, beta.name, mean.name, var.name], [prefix + "_bn"],
            name="/" + prefix + "_bn/BatchNormalization", epsilon=1e-5))
        nodes.append(helper.make_node("Relu", [prefix + "_bn"], [prefix + "_relu"],
                                      name="/" + prefix + "/Relu"))
        return prefix + "_relu"

    x = conv_bn_relu("input", 3, 16, "conv1")
    nodes.append(helper.make_node("MaxPool", [x], ["pool1"], name="/pool1/MaxPool",
                                  kernel_shape=[2, 2], strides=[2, 2]))
    x = conv_bn_relu("pool1", 16, 32, "conv2")
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"], name="/gap/GlobalAveragePool"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["features"], name="/Flatten", axis=1))
    w = param("fc.weight", (a.classes, 32), np.sqrt(1.0 / 32))
    b = param("fc.bias", (a.classes,), 0.01)
    nodes.append(helper.make_node("Gemm", ["features", w, b], ["output"], name="/fc/Gemm",
                                  alpha=1.0, beta=1.0, transB=1))
    graph = helper.make_graph(
        nodes, "torch_jit", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                           ["batch", 3, a.size, a.size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", a.classes]),
         helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 32])],
        inits)
    model = helper.make_model(graph, producer_name="pytorch-style",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, a.out)


if __name__ == "__main__":
    main()
