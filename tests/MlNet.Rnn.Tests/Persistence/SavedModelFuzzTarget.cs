using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Tests.Persistence;

namespace MlNet.Rnn.Tests.Persistence;

/// <summary>
/// The saved ML.NET model the fuzzing mutates and the rule each mutant is held to: a key mapping of the label and a multiclass
/// GRU (H = 2, 3 classes, 2 features over 3 steps), saved by <c>mlContext.Model.Save</c> to a zip of entries. A mutant must load
/// through <c>mlContext.Model.Load</c> and score bit for bit as the original on fixed rows, or throw an exception that says what
/// is wrong (see <see cref="Unclear"/>).
/// </summary>
public sealed class SavedModelFuzzTarget
{
    private readonly MLContext _mlContext = new(seed: 1);
    private readonly IDataView _rows;
    private readonly float[] _expected;

    /// <summary>The zip every mutant is made from.</summary>
    public byte[] Zip { get; }

    /// <summary>Trains the model for one epoch, saves it and scores it.</summary>
    public SavedModelFuzzTarget()
    {
        var random = new Random(7);
        var rows = Enumerable.Range(0, 12).Select(r => new Row
        {
            Class = ((char)('a' + r % 3)).ToString(),
            Features = [.. Enumerable.Range(0, 6).Select(_ => (float)(random.NextDouble() * 2 - 1))],
        }).ToArray();
        _rows = _mlContext.Data.LoadFromEnumerable(rows);
        var model = _mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(Row.Class))
            .Append(_mlContext.MulticlassClassification.Trainers.Gru(new RecurrentMulticlassTrainer.Options
            {
                FeaturesPerStep = 2, HiddenSize = 2, NumberOfEpochs = 1, Seed = 1, MaxDegreeOfParallelism = 1,
            }))
            .Fit(_rows);
        var buffer = new MemoryStream();
        _mlContext.Model.Save(model, _rows.Schema, buffer);
        Zip = buffer.ToArray();
        _expected = Score(Zip);
    }

    /// <summary>Loads a saved model from bytes and returns its Score column on the fixed rows, flattened.</summary>
    private float[] Score(byte[] zip)
    {
        var model = _mlContext.Model.Load(new MemoryStream(zip), out _);
        return [.. model.Transform(_rows).GetColumn<float[]>("Score").SelectMany(score => score)];
    }

    /// <summary>Loads <paramref name="mutant"/> and judges it.</summary>
    public FuzzOutcome Run(Mutant mutant) => FuzzOutcome.Judge(mutant.Name, () => Score(mutant.Bytes), _expected, Unclear);

    /// <summary>
    /// Null unless <paramref name="exception"/>, or one it wraps, is the kind a bug throws (a null dereference, an index or a
    /// cast gone wrong, an overflow, memory exhausted): then what was thrown. ML.NET wraps a component's error in
    /// <see cref="InvalidOperationException"/>s and <see cref="System.Reflection.TargetInvocationException"/>s and reports a
    /// damaged stream of its own as it sees fit; what MlNet.Rnn's own entries must say is checked by the tests.
    /// </summary>
    public static string? Unclear(Exception exception)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
            if (inner is NullReferenceException or IndexOutOfRangeException or OverflowException or OutOfMemoryException
                or AccessViolationException or InvalidCastException or DivideByZeroException or ArrayTypeMismatchException or ArgumentNullException
                or InsufficientExecutionStackException or NotImplementedException or KeyNotFoundException)
                return $"threw {FuzzOutcome.TypeChain(exception)}: {FuzzOutcome.Messages(exception)}";
        return null;
    }

    private sealed class Row
    {
        public string Class { get; set; } = "";

        [VectorType(6)]
        public float[] Features { get; set; } = [];
    }
}
