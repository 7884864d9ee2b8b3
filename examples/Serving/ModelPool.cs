using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;

namespace Serving;

/// <summary>
/// A saved ML.NET model served through pooled prediction engines, as <c>Microsoft.Extensions.ML</c>'s
/// <c>PredictionEnginePool</c> serves one: the model is loaded once with <c>mlContext.Model.Load</c>, a
/// <see cref="DefaultObjectPool{T}"/> hands each request an engine of its own (an engine is not thread-safe; a recurrent
/// model's engines share its read-only weights, so pooling them saves only their small workspaces), and
/// <see cref="Reload"/> loads the file again and swaps model and pool at once: a request holds the version it started
/// with, so requests in flight finish on the old model and the next ones use the new one.
/// </summary>
public sealed class ModelPool<TInput, TOutput>
    where TInput : class
    where TOutput : class, new()
{
    private readonly MLContext _mlContext;
    private readonly string _path;
    private readonly Lock _reloading = new();
    private volatile Version _current;

    /// <summary>The served model, its number (1 for the first load) and its engines.</summary>
    public sealed record Version(int Number, ITransformer Model, ObjectPool<PredictionEngine<TInput, TOutput>> Engines);

    /// <summary>Loads the model saved at <paramref name="path"/>.</summary>
    public ModelPool(MLContext mlContext, string path)
    {
        _mlContext = mlContext;
        _path = path;
        _current = Load(1);
    }

    /// <summary>The version that serves the next request.</summary>
    public Version Current => _current;

    /// <summary>One prediction by an engine of the current version, and that version's number.</summary>
    public (TOutput Output, int Version) Predict(TInput input)
    {
        var version = _current;
        var engine = version.Engines.Get();
        try
        {
            return (engine.Predict(input), version.Number);
        }
        finally
        {
            version.Engines.Return(engine);
        }
    }

    /// <summary>Loads the file again (as it is now) and serves it from the next request on; returns the new version's number.</summary>
    public int Reload()
    {
        lock (_reloading)
        {
            var next = Load(_current.Number + 1);
            _current = next;
            return next.Number;
        }
    }

    private Version Load(int number)
    {
        ITransformer model;
        // Read the whole file first, so a writer replacing it cannot tear the read.
        using (var stream = new MemoryStream(File.ReadAllBytes(_path))) model = _mlContext.Model.Load(stream, out _);
        var policy = new EnginePolicy(_mlContext, model);
        return new Version(number, model, new DefaultObjectPool<PredictionEngine<TInput, TOutput>>(policy, Environment.ProcessorCount * 2));
    }

    private sealed class EnginePolicy(MLContext mlContext, ITransformer model) : PooledObjectPolicy<PredictionEngine<TInput, TOutput>>
    {
        public override PredictionEngine<TInput, TOutput> Create() => mlContext.Model.CreatePredictionEngine<TInput, TOutput>(model);

        public override bool Return(PredictionEngine<TInput, TOutput> engine) => true;
    }
}
