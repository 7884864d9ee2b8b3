using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Scoring;

namespace MlNet.Rnn.Forecasting;

/// <summary>
/// The scorer of <see cref="RecurrentForecastingTransformer"/> for its one cursor: a <see cref="ForecastEngine"/> of its own starts at
/// the end of the fitted series; each row's observation slides the engine's window and the window is staged; the staged windows are
/// forecast in one forward pass over the shared forecaster. Outputs 0, 1, 2 of the forecast, lower and upper bound columns in
/// <see cref="RecurrentForecastingTransformer.OutputNames"/> order (the absent ones skipped).
/// </summary>
internal sealed class ForecastScorer : IBatchScorer
{
    private readonly ForecastEngine _engine;
    private readonly SeriesColumns.Reader _reader;
    private readonly int[] _kinds;
    private readonly int _horizon;
    private float[] _values = [], _lower = [], _upper = [];

    public ForecastScorer(RecurrentForecastingTransformer transformer, DataViewRow input)
    {
        _engine = transformer.Forecaster.CreateEngine();
        _reader = transformer.Columns.CreateReader(input, transformer.Forecaster.ExogenousFeatures);
        _kinds = [.. transformer.OutputNames.Select((name, kind) => (name, kind)).Where(o => o.name is not null).Select(o => o.kind)];
        _horizon = transformer.Forecaster.Horizon;
    }

    public int Count => _engine.StagedCount;

    public bool IsFull => false;

    public void Stage(long position)
    {
        _reader.Read(position);
        _engine.Add(_reader.Observation, _reader.Exogenous);
        _engine.Stage();
    }

    public void Clear() => _engine.ClearStaged();

    public void Score()
    {
        int length = Count * _horizon;
        if (_values.Length < length)
        {
            int size = Math.Max(length, 2 * _values.Length);
            (_values, _lower, _upper) = (new float[size], new float[size], new float[size]);
        }
        _engine.ForecastStaged(_values.AsSpan(0, length), _lower.AsSpan(0, length), _upper.AsSpan(0, length));
    }

    public Delegate Getter(int output, Func<int> row)
    {
        int kind = _kinds[output], HZ = _horizon;
        return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
        {
            int r = row(); // first: finding the row may score the batch
            float[] values = kind switch { 0 => _values, 1 => _lower, _ => _upper };
            var editor = VBufferEditor.Create(ref value, HZ);
            values.AsSpan(r * HZ, HZ).CopyTo(editor.Values);
            value = editor.Commit();
        });
    }
}
