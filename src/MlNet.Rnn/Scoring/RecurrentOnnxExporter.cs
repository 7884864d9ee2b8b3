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
/// The graph: the feature column <c>[N, T·I]</c> reshaped to <c>[N, T, I]</c> (or key vector <c>[N, T]</c> of any key raw type cast
/// to int64 and looked up in the embedding with <c>Gather</c>, giving <c>[N, T, E]</c>), transposed to time-major <c>[T, N, I]</c>;
/// per layer one standard <c>RNN</c>, <c>LSTM</c> or <c>GRU</c> node with the core's PyTorch gate blocks reordered to ONNX's (LSTM
/// i,f,g,o → i,o,f,c; GRU r,z,n → z,r,h with <c>linear_before_reset = 1</c>), the learned initial state (when trained) expanded to
/// every row. Many-to-one: the top layer's final states <c>[D, N, H]</c> (or, for <see cref="SequenceReadout.MeanOverSteps"/>,
/// <c>ReduceMean</c> of its outputs over the steps) → <c>[N, D·H]</c>, the head <c>Gemm</c>, then the task's
/// columns as ML.NET names them: binary <c>Score</c> (logit), <c>Probability</c> (<c>Sigmoid</c>), <c>PredictedLabel</c>
/// (<c>Score &gt; threshold</c>); multiclass <c>Score</c> (<c>Softmax</c>) and <c>PredictedLabel</c> (<c>ArgMax</c> + 1 as the key
/// type); regression <c>Score</c>. The tagger: every step's top-layer output <c>[N, T, D·H]</c>, the head as <c>MatMul</c> + <c>Add</c>
/// per step, and per-row step-major <c>Score</c> <c>[N, T·C]</c> (<c>Softmax</c>) and <c>PredictedLabel</c> <c>[N, T]</c> keys. The
/// hidden-state column, when the model has one, is the features the head reads.
/// <para>
/// A variable-length feature column becomes an input <c>[N, L]</c> whose L the graph reads at run time (T = L / I). ONNX tensors are
/// rectangular and ML.NET's exporter gives a graph no per-row length input, so <c>sequence_lens</c> stays empty: one run scores rows
/// of one length, which is how ML.NET's <c>ApplyOnnxModel</c> runs it (a row at a time). Padding rows to one length would change
/// their scores. <see cref="BatchScoredDataView.SaveAsOnnx"/> refuses the sequence-to-sequence, language-model and forecasting
/// transformers (their outputs come from generation, beam-search or forecasting loops around the network).
/// </para>
/// </remarks>
internal static class RecurrentOnnxExporter
{
    /// <summary>Throws <see cref="NotSupportedException"/> naming what of <paramref name="transformer"/> ONNX export does not support.</summary>
    public static void CheckSupported(RecurrentPredictionTransformer transformer, DataViewSchema inputSchema)
    {
        var type = inputSchema[transformer.FeatureColumnName].Type;
        int size = type.GetVectorSize();
        if (!transformer.Column.Tokens && size % transformer.Column.FeaturesPerStep != 0)
            throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                $"ONNX export of {nameof(RecurrentPredictionTransformer)}: the feature column '{transformer.FeatureColumnName}' has {size} values, not a whole number of steps of {transformer.Column.FeaturesPerStep}."));
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
        int size = inputSchema[transformer.FeatureColumnName].Type.GetVectorSize(); // 0: variable
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
            // T = size / I, or read from the row's length when the column's size is variable.
            string shape = graph.Longs([0, size > 0 ? size / I : -1, I], "steps_shape");
            string batchMajor = graph.Node("Reshape", "batch_major_steps", [features, shape]);
            steps = graph.Node("Transpose", "steps", [batchMajor], node => node.AddAttribute("perm", new long[] { 1, 0, 2 }));
        }

        string rows = options.LearnedInitialState ? graph.RowCount(features) : "";
        string output = "", finalHidden = "";
        string layerInput = steps;
        for (int layer = 0; layer < options.Layers; layer++)
        {
            (output, finalHidden) = graph.RecurrentLayer(model, layer, layerInput, rows);
            if (layer + 1 < options.Layers)
            {
                // Y [T, D, N, H] → [T, N, D·H], forward direction first, as the core feeds the next layer.
                string timeMajor = graph.Node("Transpose", "layer_output", [output], node => node.AddAttribute("perm", new long[] { 0, 2, 1, 3 }));
                layerInput = graph.Node("Reshape", "next_layer_input", [timeMajor, graph.Longs([0, 0, D * H], "layer_output_shape")]);
            }
        }

        var headWeight = model.Parameters["head.weight"];
        var headBias = model.Parameters["head.bias"];
        string weight = graph.Floats(model.Parameters.ReadOnlyValuesOf(headWeight).ToArray(), headWeight.Shape, "head.weight"); // [O, D·H]
        string bias = graph.Floats(model.Parameters.ReadOnlyValuesOf(headBias).ToArray(), headBias.Shape, "head.bias");
        string state, logits;
        bool perStep = transformer.Task == RecurrentTask.SequenceTagging;
        if (perStep)
        {
            // Y [T, D, N, H] → [N, T, D·H]: every step's features; the head on each step gives [N, T, O].
            string rowMajor = graph.Node("Transpose", "step_states", [output], node => node.AddAttribute("perm", new long[] { 2, 0, 1, 3 }));
            string steps3 = graph.Node("Reshape", "head_input", [rowMajor, graph.Longs([0, 0, D * H], "head_input_shape")]);
            string transposedWeight = graph.Node("Transpose", "head_weight_t", [weight], node => node.AddAttribute("perm", new long[] { 1, 0 }));
            logits = graph.Node("Add", "logits", [graph.Node("MatMul", "step_logits", [steps3, transposedWeight]), bias]);
            state = steps3;
        }
        else
        {
            // Y_h [D, N, H] (or Y's mean over the steps, every row being all real steps) → [N, D·H]: the features the head reads.
            string read = options.Readout == SequenceReadout.MeanOverSteps
                ? graph.Node("ReduceMean", "mean_state", [output], node => { node.AddAttribute("axes", new long[] { 0 }); node.AddAttribute("keepdims", 0L); })
                : finalHidden;
            string rowMajor = graph.Node("Transpose", "final_state", [read], node => node.AddAttribute("perm", new long[] { 1, 0, 2 }));
            state = graph.Node("Reshape", "head_input", [rowMajor, graph.Longs([0, D * H], "head_input_shape")]);
            logits = graph.Node("Gemm", "logits", [state, weight, bias], node => node.AddAttribute("transB", 1L));
        }
        // The tagger's columns are step-major vectors per row: [N, T, ·] → [N, T·(·)].
        string? rowShape = perStep ? graph.Longs([0, -1], "row_shape") : null;
        string RowsOf(string perStepValues, string hint) => rowShape is null ? perStepValues : graph.Node("Reshape", hint, [perStepValues, rowShape]);

        var outputs = transformer.Outputs;
        var columns = outputs.Columns;
        for (int index = 0; index < outputs.Count; index++)
        {
            var column = columns[index];
            string target = ctx.AddIntermediateVariable(column.Type, column.Name);
            int classAxis = perStep ? 2 : 1;
            switch (outputs.KindOf(index))
            {
                case OutputColumns.Kind.Score when transformer.Task is RecurrentTask.MulticlassClassification or RecurrentTask.SequenceTagging:
                    // Before opset 13 Softmax flattens the axes from classAxis on; classAxis is the last axis, so the result is the same.
                    string probabilities = graph.Node("Softmax", "probabilities", [logits], node => node.AddAttribute("axis", (long)classAxis));
                    graph.Node("Identity", [RowsOf(probabilities, "step_probabilities")], target);
                    break;
                case OutputColumns.Kind.Score:
                    graph.Node("Identity", [logits], target);
                    break;
                case OutputColumns.Kind.Probability:
                    graph.Node("Sigmoid", [logits], target);
                    break;
                case OutputColumns.Kind.PredictedLabel when transformer.Task is RecurrentTask.MulticlassClassification or RecurrentTask.SequenceTagging:
                    // Keys are 1-based: class c is key c + 1, of the label's raw type.
                    string best = graph.Node("ArgMax", "best_class", [logits], node => { node.AddAttribute("axis", (long)classAxis); node.AddAttribute("keepdims", perStep ? 0L : 1L); });
                    string key = graph.Node("Add", "best_key", [best, ctx.AddInitializer(1L, "one")]);
                    graph.Node("Cast", [key], target, node => node.AddAttribute("to", column.Type.GetItemType().RawType));
                    break;
                case OutputColumns.Kind.PredictedLabel:
                    graph.Node("Greater", [logits, ctx.AddInitializer(transformer.Threshold, "threshold")], target);
                    break;
                case OutputColumns.Kind.HiddenState:
                    graph.Node("Identity", [RowsOf(state, "step_hidden_states")], target);
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
