using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// The model file the fuzzing mutates and the rule each mutant is held to. The file is a checkpoint of a tiny LSTM (I = 2,
/// H = 2, O = 2, learned initial state) with one optimizer tensor, which loading passes over unread; about 1.4 KB, so a
/// load takes microseconds. A mutant must load through <see cref="SequenceModelFile.Load(Stream, string?)"/> and score bit for bit
/// as the original on three fixed sequences, or throw an <see cref="InvalidDataException"/> whose message starts with the source's name.
/// </summary>
public sealed class ModelFileFuzzTarget
{
    /// <summary>The name the loader is given for the stream, which every error must start with.</summary>
    public const string Source = "fuzz.safetensors";

    private readonly float[] _expected;

    /// <summary>The file every mutant is made from.</summary>
    public byte[] File { get; }

    /// <summary>Builds the model, saves it with its optimizer tensor and scores it.</summary>
    public ModelFileFuzzTarget()
    {
        var options = new SequenceModelOptions
        {
            Cell = RecurrentCellType.Lstm, FeaturesPerStep = 2, HiddenSize = 2, OutputSize = 2, LearnedInitialState = true, Seed = 3, MaxDegreeOfParallelism = 1,
        };
        var model = new SequenceModel(options);
        var random = new Random(5);
        foreach (var tensor in model.Parameters.Tensors)
        {
            var values = model.Parameters.ValuesOf(tensor);
            for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        }
        var stream = new MemoryStream();
        ModelFile.Save(stream, model.Parameters, SequenceModelFile.ToJson(options),
            extraTensors: [("optimizer.m.head.bias", [2], new float[] { 0.5f, -0.5f })]);
        File = stream.ToArray();
        _expected = Score(SequenceModelFile.Load(new MemoryStream(File), Source));
    }

    /// <summary>The model's raw outputs on three sequences of lengths 3, 1 and 2.</summary>
    public static float[] Score(SequenceModel model)
    {
        int I = model.Options.FeaturesPerStep;
        var data = new SequenceDataset(I, targetWidth: 1, perStepTargets: model.Options.Readout == SequenceReadout.EveryStep);
        foreach (int steps in new[] { 3, 1, 2 })
        {
            float[] x = [.. Enumerable.Range(0, steps * I).Select(i => MathF.Sin(1.7f * i + steps))];
            data.Add(x, new float[model.Options.Readout == SequenceReadout.EveryStep ? steps : 1]);
        }
        var batch = new SequenceBatch();
        data.Fill([0, 1, 2], batch);
        var output = new float[model.OutputRows(batch) * model.OutputSize];
        model.Forward(batch, output, training: false);
        return output;
    }

    /// <summary>Loads <paramref name="mutant"/> from a seekable stream, or one that is not (<paramref name="forwardOnly"/>), and judges it.</summary>
    public FuzzOutcome Run(Mutant mutant, bool forwardOnly) => FuzzOutcome.Judge(
        forwardOnly ? mutant.Name + " (forward-only stream)" : mutant.Name,
        () => Score(SequenceModelFile.Load(forwardOnly ? new SafetensorsBytes.ForwardOnlyStream(mutant.Bytes, maxRead: 4096) : new MemoryStream(mutant.Bytes), Source)),
        _expected,
        exception => exception is InvalidDataException && exception.Message.StartsWith(Source, StringComparison.Ordinal)
            ? null
            : $"threw {exception.GetType().Name}, not an InvalidDataException naming {Source}: {exception.Message}");
}
