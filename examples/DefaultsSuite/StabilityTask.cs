using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Cells;

namespace MlNet.Rnn.Examples.DefaultsSuite;

/// <summary>
/// Whether the default training settings (learning rate, clipping, automatic length) stay stable on the networks where a
/// large step is most likely to diverge: deep, bidirectional, long, and Elman cells with ReLU. The user sets only the shape;
/// everything else is left at its default. The task is synthetic: 2 features per step drawn from N(0, 1), the label the mean
/// of x₀ over the last 20 steps plus half the square of the last step's x₁; the baseline is the mean predictor.
/// </summary>
internal static class StabilityTask
{
    private const int Features = 2, Window = 20, TrainingRows = 500, TestRows = 500;

    private static readonly (string Trainer, string Network, int Steps, Func<MLContext, IEstimator<ITransformer>> Create)[] Networks =
    [
        ("Lstm", "3 layers, bidirectional, T 50", 50, m => m.Regression.Trainers.Lstm(Options(layers: 3, bidirectional: true))),
        ("Gru", "3 layers, bidirectional, T 50", 50, m => m.Regression.Trainers.Gru(Options(layers: 3, bidirectional: true))),
        ("Rnn", "tanh, 3 layers, T 50", 50, m => m.Regression.Trainers.Rnn(Options(layers: 3, bidirectional: false))),
        ("Rnn", "ReLU, 2 layers, T 50", 50, m => m.Regression.Trainers.Rnn(Options(layers: 2, bidirectional: false, RnnActivation.Relu))),
        ("Lstm", "1 layer, T 500", 500, m => m.Regression.Trainers.Lstm(Options(layers: 1, bidirectional: false))),
    ];

    public static IReadOnlyList<TaskResult> Run(int seeds)
    {
        var results = new List<TaskResult>();
        foreach (var (trainer, network, steps, create) in Networks)
        {
            Row[] train = Sample(TrainingRows, steps, new Random(1)), test = Sample(TestRows, steps, new Random(2));
            double mean = train.Average(r => r.Label);
            double trivial = test.Average(r => (r.Label - mean) * (r.Label - mean));
            var mses = new List<double>();
            double seconds = 0;
            for (int seed = 1; seed <= seeds; seed++)
            {
                var mlContext = new MLContext(seed: seed);
                var clock = Stopwatch.StartNew();
                var model = create(mlContext).Fit(mlContext.Data.LoadFromEnumerable(train));
                seconds += clock.Elapsed.TotalSeconds / seeds;
                var metrics = mlContext.Regression.Evaluate(model.Transform(mlContext.Data.LoadFromEnumerable(test)));
                mses.Add(metrics.MeanSquaredError);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"stability: {trainer}, {network}: seed {seed}: MSE {metrics.MeanSquaredError:F4} (mean predictor {trivial:F4}), fit {clock.Elapsed.TotalSeconds:F1} s"));
            }
            results.Add(new("stability", $"`Regression.Trainers.{trainer}(options)`: {network}",
                TrainingRows, "MSE", false, mses, [new("mean predictor", trivial)], seconds,
                $"{TestRows} test rows; options set only the shape (NumberOfLayers, Bidirectional, RnnActivation, FeaturesPerStep {Features})"));
        }
        return results;
    }

    private static RecurrentRegressionTrainer.Options Options(int layers, bool bidirectional, RnnActivation activation = RnnActivation.Tanh) => new()
    {
        FeatureColumnName = "Steps",
        FeaturesPerStep = Features,
        NumberOfLayers = layers,
        Bidirectional = bidirectional,
        RnnActivation = activation,
    };

    private static Row[] Sample(int count, int steps, Random random)
    {
        var rows = new Row[count];
        for (int n = 0; n < count; n++)
        {
            var values = new float[steps * Features];
            for (int i = 0; i < values.Length; i++) values[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
            double sum = 0;
            for (int t = steps - Window; t < steps; t++) sum += values[t * Features];
            float last = values[^1];
            rows[n] = new Row { Steps = values, Label = (float)(sum / Window + 0.5 * last * last) };
        }
        return rows;
    }

    private sealed class Row
    {
        public float[] Steps { get; set; } = [];

        public float Label { get; set; }
    }
}
