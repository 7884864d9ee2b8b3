using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Data;
using MlNet.Rnn.Models;

[assembly: LoadableClass(typeof(RecurrentModelParameters), null, typeof(SignatureLoadModel),
    "Recurrent network (RNN, LSTM, GRU)", RecurrentModelParameters.LoaderSignature)]

namespace MlNet.Rnn.Models;

/// <summary>
/// A trained recurrent network with a linear head: the feature vector of a row, read as T steps × I features
/// (step-major), runs through the network, and the head maps the top layer's final hidden state to the logit
/// <c>Score</c>. For binary classification <see cref="RecurrentBinaryTrainer"/> wraps it with a fixed Platt calibrator
/// (slope −1, offset 0), so <c>Probability = sigmoid(Score)</c>.
/// </summary>
public sealed class RecurrentModelParameters : ModelParametersBase<float>, IValueMapper
{
    internal const string LoaderSignature = "MlNetRnnModel";
    private const string RegistrationName = "RecurrentModelParameters";

    private readonly SequenceNetworkShape _shape;
    private readonly float[] _values;
    private readonly VectorDataViewType _inputType;

    internal RecurrentModelParameters(IHostEnvironment env, SequenceNetwork network)
        : base(env, RegistrationName)
    {
        _shape = network.Shape;
        _values = network.Parameters.Values.ToArray();
        _inputType = new VectorDataViewType(NumberDataViewType.Single);
    }

    private RecurrentModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, RegistrationName, ctx)
    {
        // *** Binary format (after the base's int: sizeof(float)) ***
        // int: cell (0 Rnn, 1 Lstm, 2 Gru); int: RNN activation (0 tanh, 1 relu, 2 sigmoid)
        // int: I; int: H; int: L; byte: bidirectional; byte: learned initial state; int: O
        // int: tensor count; per tensor: string name, int rank, int[rank] shape, float[product of shape] values
        var reader = ctx.Reader;
        var cell = (RecurrentCellType)reader.ReadInt32();
        var activation = (RnnActivation)reader.ReadInt32();
        Host.CheckDecode(Enum.IsDefined(cell) && Enum.IsDefined(activation), "unknown cell or activation");
        int inputSize = reader.ReadInt32(), hiddenSize = reader.ReadInt32(), layers = reader.ReadInt32();
        bool bidirectional = reader.ReadByte() != 0, learnedInitialState = reader.ReadByte() != 0;
        int outputs = reader.ReadInt32();
        Host.CheckDecode(inputSize > 0 && hiddenSize > 0 && layers > 0 && outputs > 0, "non-positive network size");
        _shape = new SequenceNetworkShape(cell, activation, inputSize, hiddenSize, layers, bidirectional, learnedInitialState, outputs);

        var network = new SequenceNetwork(_shape, maxDegreeOfParallelism: 1);
        var parameters = network.Parameters;
        int tensorCount = reader.ReadInt32();
        Host.CheckDecode(tensorCount == parameters.Tensors.Count, "tensor count does not match the network");
        _values = new float[parameters.Count];
        foreach (var tensor in parameters.Tensors)
        {
            string name = reader.ReadString();
            Host.CheckDecode(name == tensor.Name, $"expected tensor '{tensor.Name}', found '{name}'");
            int rank = reader.ReadInt32();
            Host.CheckDecode(rank == tensor.Shape.Length, $"tensor '{name}' has the wrong rank");
            for (int k = 0; k < rank; k++) Host.CheckDecode(reader.ReadInt32() == tensor.Shape[k], $"tensor '{name}' has the wrong shape");
            for (int i = 0; i < tensor.Length; i++) _values[tensor.Offset + i] = reader.ReadSingle();
        }
        _inputType = new VectorDataViewType(NumberDataViewType.Single);
    }

    /// <summary>The recurrent cell.</summary>
    public RecurrentCellType Cell => _shape.Cell;

    /// <summary>I: features per time step; a feature vector of length T·I holds T steps.</summary>
    public int FeaturesPerStep => _shape.FeaturesPerStep;

    /// <summary>H: hidden units per layer and direction.</summary>
    public int HiddenSize => _shape.HiddenSize;

    /// <summary>L: stacked recurrent layers.</summary>
    public int NumberOfLayers => _shape.Layers;

    /// <summary>Whether each layer also reads the sequence backwards (D = 2).</summary>
    public bool Bidirectional => _shape.Bidirectional;

    internal SequenceNetworkShape Shape => _shape;

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "RNNMODEL",
        verWrittenCur: 0x00010001, // initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        // The simple name, so a newer MlNet.Rnn loads models an older one saved.
        loaderAssemblyName: typeof(RecurrentModelParameters).Assembly.GetName().Name);

    /// <summary>The loader ML.NET finds through <c>[LoadableClass]</c>; never also a constructor of the same visibility.</summary>
    internal static RecurrentModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel(GetVersionInfo());
        return new RecurrentModelParameters(env, ctx);
    }

    /// <summary>Writes the format read by the loading constructor.</summary>
    protected override void SaveCore(ModelSaveContext ctx)
    {
        base.SaveCore(ctx);
        ctx.SetVersionInfo(GetVersionInfo());
        var writer = ctx.Writer;
        writer.Write((int)_shape.Cell);
        writer.Write((int)_shape.RnnActivation);
        writer.Write(_shape.FeaturesPerStep);
        writer.Write(_shape.HiddenSize);
        writer.Write(_shape.Layers);
        writer.Write((byte)(_shape.Bidirectional ? 1 : 0));
        writer.Write((byte)(_shape.LearnedInitialState ? 1 : 0));
        writer.Write(_shape.Outputs);
        var parameters = CreateNetwork(maxDegreeOfParallelism: 1).Parameters;
        writer.Write(parameters.Tensors.Count);
        foreach (var tensor in parameters.Tensors)
        {
            writer.Write(tensor.Name);
            writer.Write(tensor.Shape.Length);
            foreach (int dimension in tensor.Shape) writer.Write(dimension);
            foreach (float value in parameters.ValuesOf(tensor)) writer.Write(value);
        }
    }

    /// <summary>The task the score serves (binary classification, for now the only one).</summary>
    protected override PredictionKind PredictionKind => PredictionKind.BinaryClassification;

    /// <summary>A network holding this model's parameters, with its own workspaces.</summary>
    internal SequenceNetwork CreateNetwork(int maxDegreeOfParallelism)
    {
        var network = new SequenceNetwork(_shape, maxDegreeOfParallelism);
        _values.CopyTo(network.Parameters.Values);
        return network;
    }

    DataViewType IValueMapper.InputType => _inputType;

    DataViewType IValueMapper.OutputType => NumberDataViewType.Single;

    ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>()
    {
        Host.Check(typeof(TIn) == typeof(VBuffer<float>), "The input of a recurrent model is a vector of Single.");
        Host.Check(typeof(TOut) == typeof(float), "The score of a recurrent model is a Single.");
        // Each mapper (one per cursor or prediction engine) owns a network, so parallel cursors never share workspaces.
        var network = CreateNetwork(maxDegreeOfParallelism: 1);
        var batch = new SequenceBatch();
        float[] dense = [];
        float[] logit = new float[1];
        int I = _shape.FeaturesPerStep;
        ValueMapper<VBuffer<float>, float> map = (in VBuffer<float> features, ref float score) =>
        {
            int length = features.Length;
            if (length == 0 || length % I != 0)
                throw Host.Except($"A feature vector of length {length} cannot be read as steps of {I} features: " +
                    $"its length must be a positive multiple of featuresPerStep = {I}.");
            if (dense.Length < length) dense = new float[length];
            features.CopyTo(dense); // densifies a sparse vector
            ReadOnlySpan<float> sequence = dense.AsSpan(0, length);
            if (!AllFinite(sequence, out int bad))
                throw Host.Except($"Feature {bad % I} of step {bad / I} is {sequence[bad]}; every feature must be a finite number.");
            batch.PackOne(sequence, I);
            network.Forward(batch, logit, training: false);
            score = logit[0];
        };
        return (ValueMapper<TIn, TOut>)(Delegate)map;
    }

    private static bool AllFinite(ReadOnlySpan<float> values, out int firstBad)
    {
        for (firstBad = 0; firstBad < values.Length; firstBad++)
            if (!float.IsFinite(values[firstBad])) return false;
        return true;
    }
}
