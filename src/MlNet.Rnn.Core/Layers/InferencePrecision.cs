namespace MlNet.Rnn.Core.Layers;

/// <summary>How an inference workspace computes the recurrent layers' matrix products.</summary>
public enum InferencePrecision
{
    /// <summary>Single precision, as in training: the model's own results.</summary>
    Float32,

    /// <summary>
    /// Dynamic int8 quantization (as PyTorch's <c>quantize_dynamic</c> and ONNX Runtime's <c>DynamicQuantizeLSTM</c>): each layer's
    /// <c>W_ih</c> and <c>W_hh</c> quantized once per gate unit, the layer's input rows and each step's hidden state per row as they
    /// arrive, the integer products exact and dequantized into the float cell (see <see cref="Kernels.QuantizedGemm"/>). Gates,
    /// states, embeddings and the readout stay float. Results differ from <see cref="Float32"/> by the quantization error.
    /// </summary>
    Int8,
}
