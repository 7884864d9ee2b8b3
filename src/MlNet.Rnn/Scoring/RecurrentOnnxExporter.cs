using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Scoring;

/// <summary>
/// Writes a <see cref="RecurrentPredictionTransformer"/> into the ONNX graph that <c>mlContext.Model.ConvertToOnnx</c> builds
/// (called by <see cref="BatchScoredDataView"/>, the <c>ITransformCanSaveOnnx</c> the exporter walks back to). Legend: N rows,
/// T steps, I features per step (E embedding width for keys), H hidden size, D directions, G gates, O outputs.
/// </summary>
/// <remarks>
/// The graph: the feature column <c>[N, T·I]</c> reshaped to <c>[N, T, I]</c> (or key vector <c>[N, T]</c> cast to int64 and
/// looked up in the embedding with <c>Gather</c>, giving <c>[N, T, E]</c>), transposed to time-major <c>[T, N, I]</c>; per layer
/// one standard <c>RNN</c>, <c>LSTM</c> or <c>GRU</c> node with the core's PyTorch gate blocks reordered to ONNX's (LSTM i,f,g,o →
/// i,o,f,c; GRU r,z,n → z,r,h with <c>linear_before_reset = 1</c>), the learned initial state (when trained) expanded to every
/// row; the top layer's final states <c>[D, N, H]</c> → <c>[N, D·H]</c>; the head <c>Gemm</c>; then the task's columns as ML.NET
/// names them: binary <c>Score</c> (logit), <c>Probability</c> (<c>Sigmoid</c>), <c>PredictedLabel</c> (<c>Score &gt; threshold</c>);
/// multiclass <c>Score</c> (<c>Softmax</c>) and <c>PredictedLabel</c> (<c>ArgMax</c> + 1 as the key type); regression <c>Score</c>;
/// and the hidden-state column when the model has one. What ONNX cannot express this way throws <see cref="NotSupportedException"/>
/// before anything is written: variable-length feature columns (every row must have the column's fixed T) and the sequence
/// tagger (per-step outputs).
/// </remarks>
internal static class RecurrentOnnxExporter
{
    /// <summary>Throws <see cref="NotSupportedException"/> naming what of <paramref name="transformer"/> ONNX export does not support yet.</summary>
    public static void CheckSupported(RecurrentPredictionTransformer transformer, DataViewSchema inputSchema)
    {
        string name = nameof(RecurrentPredictionTransformer);
        if (transformer.Task == RecurrentTask.SequenceTagging)
            throw new NotSupportedException($"ONNX export of {name} does not support the sequence tagger (per-step Score and PredictedLabel) yet.");
        if (transformer.Model.ModelOptions.Readout != SequenceReadout.LastStep)
            throw new NotSupportedException($"ONNX export of {name} supports only models that read out the last step.");
        var type = inputSchema[transformer.FeatureColumnName].Type;
        if (type.GetVectorSize() == 0)
            throw new NotSupportedException(
                $"ONNX export of {name} does not support the variable-length feature column '{transformer.FeatureColumnName}' ({type}) yet " +
                "(sequence_lens); give the column a fixed size, as a fixed-size vector of T·I values or T keys.");
        if (!transformer.Column.Tokens && type.GetVectorSize() % transformer.Column.FeaturesPerStep != 0)
            throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                $"ONNX export of {name}: the feature column '{transformer.FeatureColumnName}' has {type.GetVectorSize()} values, not a whole number of steps of {transformer.Column.FeaturesPerStep}."));
    }

    /// <summary>Adds the transformer's nodes, reading the feature column's variable and defining the task's columns.</summary>
    /// <remarks>
    /// ML.NET's exporter walks back from the model through the steps of the pipeline and, at a step that cannot be exported,
    /// stops with only a warning and makes the graph read the data as it was before that step: the model would then read a
    /// feature column the step had not yet made (or changed). That is refused here, naming the step.
    /// </remarks>
    public static void Save(OnnxContext ctx, RecurrentPredictionTransformer transformer, IDataView input)
    {
        var inputSchema = input.Schema;
        CheckSupported(transformer, inputSchema);
        for (var view = input; view is IDataTransform step; view = step.Source)
            if (step is not ITransformCanSaveOnnx exportable || !exportable.CanSaveOnnx(ctx))
                throw new NotSupportedException(
                    $"ONNX export of {nameof(RecurrentPredictionTransformer)}: a step before it in the pipeline ({step.GetType().Name}) cannot be exported to " +
                    $"ONNX, so the graph could not compute the feature column '{transformer.FeatureColumnName}' as Transform does; export a pipeline whose " +
                    "every step can be exported.");
        var graph = new Graph(ctx);
        var model = transformer.Model.SequenceModel;
        var options = model.Options;
        int H = options.HiddenSize, D = options.Bidirectional ? 2 : 1;
        int size = inputSchema[transformer.FeatureColumnName].Type.GetVectorSize();
        string features = ctx.GetVariableName(transformer.FeatureColumnName);

        // [T, N, I]: time-major steps.
        string steps;
        if (transformer.Column.Tokens)
        {
            string ids = graph.Node("Cast", "ids", [features], node => node.AddAttribute("to", typeof(long)));
            var table = model.Parameters["embedding.weight"];
            string weights = graph.Floats(model.Parameters.ReadOnlyValuesOf(table).ToArray(), table.Shape, "embedding.weight");
            string embedded = graph.Node("Gather", "embedded", [weights, ids], node => node.AddAttribute("axis", 0L)); // [N, T, E]
            steps = graph.Node("Transpose", "steps", [embedded], node => node.AddAttribute("perm", new long[] { 1, 0, 2 }));
        }
        else
        {
            int I = transformer.Column.FeaturesPerStep;
            string shape = graph.Longs([0, size / I, I], "steps_shape");
            string batchMajor = graph.Node("Reshape", "batch_major_steps", [features, shape]);
            steps = graph.Node("Transpose", "steps", [batchMajor], node => node.AddAttribute("perm", new long[] { 1, 0, 2 }));
        }

        string rows = options.LearnedInitialState ? graph.RowCount(features) : "";
        string finalHidden = "";
        string layerInput = steps;
        for (int layer = 0; layer < options.Layers; layer++)
        {
            (string output, finalHidden) = graph.RecurrentLayer(model, layer, layerInput, rows);
            if (layer + 1 < options.Layers)
            {
                // Y [T, D, N, H] → [T, N, D·H], forward direction first, as the core feeds the next layer.
                string timeMajor = graph.Node("Transpose", "layer_output", [output], node => node.AddAttribute("perm", new long[] { 0, 2, 1, 3 }));
                layerInput = graph.Node("Reshape", "next_layer_input", [timeMajor, graph.Longs([0, 0, D * H], "layer_output_shape")]);
            }
        }

        // Y_h [D, N, H] → [N, D·H]: the features the head reads.
        string rowMajor = graph.Node("Transpose", "final_state", [finalHidden], node => node.AddAttribute("perm", new long[] { 1, 0, 2 }));
        string state = graph.Node("Reshape", "head_input", [rowMajor, graph.Longs([0, D * H], "head_input_shape")]);

        var headWeight = model.Parameters["head.weight"];
        var headBias = model.Parameters["head.bias"];
        string logits = graph.Node("Gemm", "logits", [state,
            graph.Floats(model.Parameters.ReadOnlyValuesOf(headWeight).ToArray(), headWeight.Shape, "head.weight"),
            graph.Floats(model.Parameters.ReadOnlyValuesOf(headBias).ToArray(), headBias.Shape, "head.bias")],
            node => node.AddAttribute("transB", 1L));

        var outputs = transformer.Outputs;
        var columns = outputs.Columns;
        for (int index = 0; index < outputs.Count; index++)
        {
            var column = columns[index];
            string target = ctx.AddIntermediateVariable(column.Type, column.Name);
            switch (outputs.KindOf(index))
            {
                case OutputColumns.Kind.Score when transformer.Task == RecurrentTask.MulticlassClassification:
                    graph.Node("Softmax", [logits], target, node => node.AddAttribute("axis", 1L));
                    break;
                case OutputColumns.Kind.Score:
                    graph.Node("Identity", [logits], target);
                    break;
                case OutputColumns.Kind.Probability:
                    graph.Node("Sigmoid", [logits], target);
                    break;
                case OutputColumns.Kind.PredictedLabel when transformer.Task == RecurrentTask.MulticlassClassification:
                    string best = graph.Node("ArgMax", "best_class", [logits], node => { node.AddAttribute("axis", 1L); node.AddAttribute("keepdims", 1L); });
                    string key = graph.Node("Add", "best_key", [best, ctx.AddInitializer(1L, "one")]);
                    graph.Node("Cast", [key], target, node => node.AddAttribute("to", column.Type.RawType));
                    break;
                case OutputColumns.Kind.PredictedLabel:
                    graph.Node("Greater", [logits, ctx.AddInitializer(transformer.Threshold, "threshold")], target);
                    break;
                case OutputColumns.Kind.HiddenState:
                    graph.Node("Identity", [state], target);
                    break;
                default:
                    throw new NotSupportedException($"ONNX export of {nameof(RecurrentPredictionTransformer)} does not support the column '{column.Name}'.");
            }
        }
    }

    /// <summary>The ONNX graph being built: nodes in the standard domain, constants, and fresh intermediate variables.</summary>
    private sealed class Graph(OnnxContext ctx)
    {
        /// <summary>ONNX's gate blocks as indices of the core's (PyTorch's): LSTM i,o,f,c from i,f,g,o; GRU z,r,h from r,z,n.</summary>
        public static int[] GateOrder(RecurrentCellType cell) => cell switch
        {
            RecurrentCellType.Lstm => [0, 3, 1, 2],
            RecurrentCellType.Gru => [1, 0, 2],
            _ => [0],
        };

        /// <summary>A node of the standard domain writing a fresh variable named after <paramref name="hint"/>; returns its name.</summary>
        public string Node(string opType, string hint, string[] inputs, Action<OnnxNode>? attributes = null)
        {
            string output = ctx.AddIntermediateVariable(null!, hint, skip: true);
            Node(opType, inputs, output, attributes);
            return output;
        }

        /// <summary>A node of the standard domain writing <paramref name="output"/>.</summary>
        public void Node(string opType, string[] inputs, string output, Action<OnnxNode>? attributes = null) =>
            Node(opType, inputs, [output], attributes);

        /// <summary>A node of the standard domain (ML.NET's context defaults to ai.onnx.ml).</summary>
        public void Node(string opType, string[] inputs, string[] outputs, Action<OnnxNode>? attributes = null)
        {
            var node = ctx.CreateNode(opType, inputs, outputs, ctx.GetNodeName(opType), "");
            attributes?.Invoke(node);
        }

        /// <summary>A float constant of the given shape.</summary>
        public string Floats(float[] values, int[] shape, string name) =>
            ctx.AddInitializer(values, shape.Select(dimension => (long)dimension), name);

        /// <summary>An int64 vector.</summary>
        public string Longs(long[] values, string name) => ctx.AddInitializer(values, [values.Length], name);

        /// <summary>N as an int64 tensor <c>[1]</c>, read from the first dimension of <paramref name="input"/>.</summary>
        public string RowCount(string input)
        {
            string shape = Node("Shape", "input_shape", [input]);
            return Node("Gather", "row_count", [shape, Longs([0L], "zero_index")], node => node.AddAttribute("axis", 0L));
        }

        /// <summary>
        /// One recurrent layer, both directions in one node; returns Y <c>[T, D, N, H]</c> and Y_h <c>[D, N, H]</c>.
        /// <paramref name="rows"/> is N <c>[1]</c> when the initial state is learned, else empty.
        /// </summary>
        public (string Output, string FinalHidden) RecurrentLayer(SequenceModel model, int layer, string input, string rows)
        {
            var options = model.Options;
            var parameters = model.Parameters;
            int H = options.HiddenSize, D = options.Bidirectional ? 2 : 1;
            int[] order = GateOrder(options.Cell);
            int G = order.Length;
            string[] suffixes = D == 2 ? [$"l{layer}", $"l{layer}_reverse"] : [$"l{layer}"];
            int inputSize = parameters[$"weight_ih_{suffixes[0]}"].Shape[1];

            var inputWeights = new float[D * G * H * inputSize];
            var recurrentWeights = new float[D * G * H * H];
            var biases = new float[D * 2 * G * H];
            for (int d = 0; d < D; d++)
            {
                var wih = parameters.ReadOnlyValuesOf(parameters[$"weight_ih_{suffixes[d]}"]);
                var whh = parameters.ReadOnlyValuesOf(parameters[$"weight_hh_{suffixes[d]}"]);
                var bih = parameters.ReadOnlyValuesOf(parameters[$"bias_ih_{suffixes[d]}"]);
                var bhh = parameters.ReadOnlyValuesOf(parameters[$"bias_hh_{suffixes[d]}"]);
                for (int gate = 0; gate < G; gate++)
                {
                    int from = order[gate] * H;
                    wih.Slice(from * inputSize, H * inputSize).CopyTo(inputWeights.AsSpan((d * G + gate) * H * inputSize));
                    whh.Slice(from * H, H * H).CopyTo(recurrentWeights.AsSpan((d * G + gate) * H * H));
                    bih.Slice(from, H).CopyTo(biases.AsSpan(d * 2 * G * H + gate * H));
                    bhh.Slice(from, H).CopyTo(biases.AsSpan(d * 2 * G * H + G * H + gate * H));
                }
            }

            string prefix = $"{options.Cell.ToString().ToLowerInvariant()}_l{layer}";
            var inputs = new List<string>
            {
                input,
                Floats(inputWeights, [D, G * H, inputSize], $"{prefix}_W"),
                Floats(recurrentWeights, [D, G * H, H], $"{prefix}_R"),
                Floats(biases, [D, 2 * G * H], $"{prefix}_B"),
            };
            if (options.LearnedInitialState)
            {
                inputs.Add(""); // sequence_lens: every row has all T steps
                string shape = Node("Concat", $"{prefix}_state_shape", [Longs([D], $"{prefix}_directions"), rows, Longs([H], $"{prefix}_hidden_size")],
                    node => node.AddAttribute("axis", 0L));
                inputs.Add(InitialState(parameters, "h0", suffixes, H, shape, prefix));
                if (options.Cell == RecurrentCellType.Lstm) inputs.Add(InitialState(parameters, "c0", suffixes, H, shape, prefix));
            }

            string opType = options.Cell switch { RecurrentCellType.Lstm => "LSTM", RecurrentCellType.Gru => "GRU", _ => "RNN" };
            string output = ctx.AddIntermediateVariable(null!, $"{prefix}_Y", skip: true);
            string finalHidden = ctx.AddIntermediateVariable(null!, $"{prefix}_Y_h", skip: true);
            Node(opType, [.. inputs], [output, finalHidden], node =>
            {
                node.AddAttribute("hidden_size", (long)H);
                node.AddAttribute("direction", D == 2 ? "bidirectional" : "forward");
                if (options.Cell == RecurrentCellType.Gru) node.AddAttribute("linear_before_reset", 1L);
                if (options.Cell == RecurrentCellType.Rnn)
                {
                    string activation = options.RnnActivation switch
                    {
                        Core.Cells.RnnActivation.Tanh => "Tanh",
                        Core.Cells.RnnActivation.Relu => "Relu",
                        Core.Cells.RnnActivation.Sigmoid => "Sigmoid",
                        _ => throw new NotSupportedException($"ONNX export of {nameof(RecurrentPredictionTransformer)} does not support the RNN activation {options.RnnActivation}."),
                    };
                    node.AddAttribute("activations", Enumerable.Repeat(activation, D));
                }
            });
            return (output, finalHidden);
        }

        /// <summary>The learned <c>h0</c> or <c>c0</c> of each direction <c>[D, 1, H]</c>, expanded to <c>[D, N, H]</c>.</summary>
        private string InitialState(Core.Parameters.ParameterSet parameters, string name, string[] suffixes, int H, string shape, string prefix)
        {
            var values = new float[suffixes.Length * H];
            for (int d = 0; d < suffixes.Length; d++)
                parameters.ReadOnlyValuesOf(parameters[$"{name}_{suffixes[d]}"]).CopyTo(values.AsSpan(d * H, H));
            string constant = Floats(values, [suffixes.Length, 1, H], $"{prefix}_{name}");
            return Node("Expand", $"{prefix}_{name}_rows", [constant, shape]);
        }
    }
}
