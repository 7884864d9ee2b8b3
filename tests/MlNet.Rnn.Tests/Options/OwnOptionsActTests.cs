using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Tests.Forecasting;
using static MlNet.Rnn.Tests.Options.OptionProbe;

namespace MlNet.Rnn.Tests.Options;

/// <summary>
/// The options a task's trainer adds to the shared ones, and every option of the forecasting estimator, act through
/// <c>Fit</c> in the direction their documentation gives: the positive-class weight raises the positive probabilities, class
/// weights favour their class, label smoothing softens the probabilities, the Huber loss pulls towards the median, a short
/// maximum output length cuts the decoded sequences, the confidence level widens the bounds, and so on. One case per
/// property; a reflection test keeps the tables complete.
/// </summary>
public sealed class OwnOptionsActTests
{
    private static readonly MLContext s_mlContext = new(seed: 1);
    private static readonly ProbeRow[] s_rows = OptionProbe.Rows(48, seed: 7);
    private static readonly IDataView s_data = ToDataView(s_mlContext, s_rows);

    private static T Small<T>(T options) where T : RecurrentTrainerOptions
    {
        options.FeaturesPerStep = 2;
        options.HiddenSize = 4;
        options.NumberOfEpochs = 4;
        options.BatchSize = 8;
        options.LearningRate = 0.03f;
        options.Seed = 1;
        options.MaxDegreeOfParallelism = 1;
        return options;
    }

    public static TheoryData<string> Names() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void TheOptionActsInItsDocumentedDirection(string option) => Cases[option]();

    [Fact]
    public void EveryOwnOptionHasACase()
    {
        static IEnumerable<string> Own(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(p => p.CanWrite).Select(p => $"{type.DeclaringType?.Name ?? type.Name}.{p.Name}");
        var all = new[]
        {
            typeof(RecurrentBinaryTrainer.Options), typeof(RecurrentMulticlassTrainer.Options), typeof(RecurrentRegressionTrainer.Options),
            typeof(SequenceTaggingTrainer.Options), typeof(SequenceToSequenceTrainer.Options), typeof(LanguageModelTrainer.Options),
            typeof(RecurrentForecastingEstimator.Options),
        }.SelectMany(Own);
        Assert.Empty(all.Except(Cases.Keys));
    }

    private static IDataView Multiclass(RecurrentMulticlassTrainer.Options options)
    {
        var pipeline = s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ProbeRow.Class))
            .Append(s_mlContext.MulticlassClassification.Trainers.Gru(options));
        return pipeline.Fit(s_data).Transform(s_data);
    }

    /// <summary>Labels of 0 with every fifth 10: the mean is 2, the median 0.</summary>
    private static IDataView Skewed => ToDataView(s_mlContext, s_rows.Select((row, r) => new ProbeRow { Value = r % 5 == 0 ? 10 : 0, Features = row.Features }));

    private static double MeanScore(RecurrentRegressionTrainer.Options options)
    {
        options.NumberOfEpochs = 12;
        options.LearningRate = 0.1f;
        return s_mlContext.Regression.Trainers.Gru(options).Fit(Skewed).Transform(Skewed).GetColumn<float>("Score").Average();
    }

    private static double MeanSquaredMean() => MeanScore(Small(new RecurrentRegressionTrainer.Options { LabelColumnName = nameof(ProbeRow.Value) }));

    private static double HuberMean(float delta) => MeanScore(Small(new RecurrentRegressionTrainer.Options
    {
        LabelColumnName = nameof(ProbeRow.Value), Loss = RegressionLoss.Huber, HuberDelta = delta,
    }));

    private static readonly ProbePairRow[] PairRows = [.. Enumerable.Range(0, 24).Select(i =>
    {
        var random = new Random(i);
        var digits = Enumerable.Range(0, random.Next(2, 6)).Select(_ => random.Next(6)).ToArray();
        return new ProbePairRow { Source = [.. digits.Select(d => d.ToString())], Reversed = [.. Enumerable.Reverse(digits).Select(d => d.ToString())] };
    })];

    private static readonly IDataView PairData = s_mlContext.Transforms.Conversion.MapValueToKey("Features", nameof(ProbePairRow.Source))
        .Append(s_mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ProbePairRow.Reversed)))
        .Fit(s_mlContext.Data.LoadFromEnumerable(PairRows)).Transform(s_mlContext.Data.LoadFromEnumerable(PairRows));

    /// <summary>An LSTM encoder-decoder fitted for 3 epochs on 24 digit reversals, with <paramref name="change"/> applied.</summary>
    private static SequenceToSequenceTransformer Pairs(Action<SequenceToSequenceTrainer.Options> change)
    {
        var options = new SequenceToSequenceTrainer.Options
        {
            HiddenSize = 8, EmbeddingSize = 4, NumberOfEpochs = 3, BatchSize = 8, LearningRate = 0.02f, Seed = 1, MaxDegreeOfParallelism = 1,
            MaximumOutputLength = 8,
        };
        change(options);
        return s_mlContext.SequenceToSequence.Trainers.Lstm(options).Fit(PairData);
    }

    /// <summary>The initial weights (a rate of 10⁻³⁰ moves none), whose decodings are long and varied.</summary>
    private static void Untrained(SequenceToSequenceTrainer.Options options)
    {
        options.LearningRate = 1e-30f;
        options.NumberOfEpochs = 1;
    }

    private static uint[][] Decoded(SequenceToSequenceTransformer model) =>
        [.. model.Transform(PairData).GetColumn<VBuffer<uint>>(model.OutputColumnName).Select(v => v.DenseValues().ToArray())];

    private static readonly ProbeTextRow[] TextRows = [.. Enumerable.Range(0, 24).Select(i =>
    {
        var random = new Random(i);
        string text = string.Concat(Enumerable.Range(0, random.Next(2, 5)).Select(_ => random.Next(2) == 0 ? "abc " : "bad "));
        return new ProbeTextRow { Text = text, Reversed = new string([.. text.Reverse()]) };
    })];

    private static readonly IDataView TextData = s_mlContext.Data.LoadFromEnumerable(TextRows);

    private static LanguageModelTrainer.Options TextOptions() => new()
    {
        HiddenSize = 4, EmbeddingSize = 4, NumberOfEpochs = 3, BatchSize = 4, ChunkSteps = 6, LearningRate = 0.02f, Seed = 1, MaxDegreeOfParallelism = 1,
    };

    private static LanguageModelTransformer Text(LanguageModelTrainer.Options options, IEnumerable<ProbeTextRow>? rows = null) =>
        s_mlContext.LanguageModeling.Trainers.Lstm(options).Fit(rows is null ? TextData : s_mlContext.Data.LoadFromEnumerable(rows));

    private static void AssertTextOptionChangesTheWeights(Action<LanguageModelTrainer.Options> change)
    {
        var options = TextOptions();
        change(options);
        Assert.NotEqual(Flat(Tensors(Text(TextOptions()).Model.Save)), Flat(Tensors(Text(options).Model.Save)));
    }

    /// <summary>
    /// On a clock that moves one second per logged epoch, a limit of 2.5 s lets epochs 1 to 3 run whole and cuts the fourth
    /// after its first chunk; the same options on the real clock run all 10 epochs within the limit.
    /// </summary>
    private static void AssertTheTimeLimitCutsTheFourthEpoch()
    {
        var clock = new FakeTimeProvider();
        var logger = ClockLogger(clock);
        var options = TextOptions();
        options.NumberOfEpochs = 10;
        options.MaxTrainingTime = TimeSpan.FromSeconds(2.5);
        options.TimeProvider = clock;
        options.Logger = logger;
        Assert.Equal(4, Text(options).History!.Epochs.Count);
        Assert.Contains(logger.Lines, line => line.Message.StartsWith("Training stopped: the training time budget ran out", StringComparison.Ordinal));
        options.Logger = null;
        options.TimeProvider = TimeProvider.System;
        options.MaxTrainingTime = TimeSpan.FromHours(1);
        Assert.Equal(10, Text(options).History!.Epochs.Count);
    }

    /// <summary>A logger that moves a fake clock by a second per epoch.</summary>
    private static RecordingLogger ClockLogger(FakeTimeProvider clock) => new((_, message) =>
    {
        if (message.StartsWith("Epoch ", StringComparison.Ordinal)) clock.Advance(TimeSpan.FromSeconds(1));
    });

    private static readonly Observation[] SeriesRows = ForecastingTests.Series(96);
    private static readonly IDataView SeriesData = s_mlContext.Data.LoadFromEnumerable(SeriesRows);

    private static RecurrentForecastingTransformer Forecast(Action<RecurrentForecastingEstimator.Options> change, MLContext? mlContext = null)
    {
        var options = new RecurrentForecastingEstimator.Options
        {
            InputColumnName = nameof(Observation.Value), WindowSize = 12, Horizon = 2, HiddenSize = 4, NumberOfEpochs = 3, BatchSize = 16,
            LearningRate = 0.01f, Seed = 1, MaxDegreeOfParallelism = 1, ConfidenceLowerBoundColumn = "Lower", ConfidenceUpperBoundColumn = "Upper",
        };
        change(options);
        return (mlContext ?? s_mlContext).Forecasting.ForecastByLstm(options).Fit(SeriesData);
    }

    private static float[] ForecastWeights(Action<RecurrentForecastingEstimator.Options> change, MLContext? mlContext = null) =>
        Flat(Tensors(Forecast(change, mlContext).Forecaster.Save));

    /// <summary>The mean width of the bounds over every row and horizon step.</summary>
    private static double Width(Action<RecurrentForecastingEstimator.Options> change)
    {
        var scored = Forecast(change).Transform(SeriesData);
        return scored.GetColumn<float[]>("Upper").Zip(scored.GetColumn<float[]>("Lower"), (u, l) => u.Zip(l, (a, b) => (double)a - b).Average()).Average();
    }

    private static void AssertBoundColumns()
    {
        var scored = Forecast(o => { o.ConfidenceLowerBoundColumn = "Low"; o.ConfidenceUpperBoundColumn = "High"; }).Transform(SeriesData);
        var low = scored.GetColumn<float[]>("Low").ToArray();
        var forecast = scored.GetColumn<float[]>("Forecast").ToArray();
        var high = scored.GetColumn<float[]>("High").ToArray();
        for (int r = 0; r < low.Length; r++)
            for (int h = 0; h < 2; h++) Assert.True(low[r][h] < forecast[r][h] && forecast[r][h] < high[r][h]);
        var none = Forecast(o => { o.ConfidenceLowerBoundColumn = null; o.ConfidenceUpperBoundColumn = null; }).Transform(SeriesData).Schema;
        Assert.Null(none.GetColumnOrNull("Lower"));
        Assert.Null(none.GetColumnOrNull("Upper"));
    }

    private static readonly Dictionary<string, Action> Cases = new()
    {
        ["RecurrentBinaryTrainer.PositiveClassWeight"] = () =>
        {
            double MeanProbability(float weight)
            {
                var options = Small(new RecurrentBinaryTrainer.Options { PositiveClassWeight = weight });
                return s_mlContext.BinaryClassification.Trainers.Gru(options).Fit(s_data).Transform(s_data).GetColumn<float>("Probability").Average();
            }
            Assert.True(MeanProbability(10) > MeanProbability(1) + 0.1, "a positive weight of 10 should raise the probabilities");
        },
        ["RecurrentMulticlassTrainer.ClassWeights"] = () =>
        {
            int Predicted(float[]? weights, uint key)
            {
                var options = Small(new RecurrentMulticlassTrainer.Options { ClassWeights = weights });
                return Multiclass(options).GetColumn<uint>("PredictedLabel").Count(k => k == key);
            }
            Assert.True(Predicted([20, 1, 1], 1) > Predicted(null, 1) + 5, "weighting class 1 should predict it more often");
        },
        ["RecurrentMulticlassTrainer.LabelSmoothing"] = () =>
        {
            double Confidence(float smoothing) => Multiclass(Small(new RecurrentMulticlassTrainer.Options { LabelSmoothing = smoothing, NumberOfEpochs = 8 }))
                .GetColumn<float[]>("Score").Average(p => p.Max());
            Assert.True(Confidence(0.6f) < Confidence(0) - 0.05, "smoothing should lower the top probability");
        },
        ["RecurrentRegressionTrainer.Loss"] = () => Assert.True(HuberMean(0.05f) < MeanSquaredMean() - 0.5, "Huber with a small δ should pull towards the median"),
        ["RecurrentRegressionTrainer.HuberDelta"] = () =>
        {
            // δ far above every residual makes Huber ½(ŷ − y)²: the mean again; a small δ makes it |ŷ − y|: the median.
            double large = HuberMean(100), small = HuberMean(0.05f), squared = MeanSquaredMean();
            Assert.True(Math.Abs(large - squared) < 0.3 && small < large - 0.5, $"δ 100: {large:F3}, δ 0.05: {small:F3}, MSE: {squared:F3}");
        },
        ["SequenceToSequenceTrainer.LabelColumnName"] = () =>
        {
            // Trained to copy the source instead of reversing it, the model decodes other keys.
            var pairs = s_mlContext.Transforms.Conversion.MapValueToKey("Copy", nameof(ProbePairRow.Source)).Fit(PairData).Transform(PairData);
            var options = new SequenceToSequenceTrainer.Options
            {
                HiddenSize = 8, EmbeddingSize = 4, NumberOfEpochs = 3, BatchSize = 8, LearningRate = 0.02f, Seed = 1, MaxDegreeOfParallelism = 1,
                MaximumOutputLength = 8,
            };
            var reversing = s_mlContext.SequenceToSequence.Trainers.Lstm(options).Fit(pairs);
            options.LabelColumnName = "Copy";
            var copying = s_mlContext.SequenceToSequence.Trainers.Lstm(options).Fit(pairs);
            Assert.NotEqual(reversing.Model.Parameters.ReadOnlyValues.ToArray(), copying.Model.Parameters.ReadOnlyValues.ToArray());
        },
        ["SequenceToSequenceTrainer.Bidirectional"] = () =>
        {
            // The encoder reads backwards too: every encoder layer gains its _reverse tensors; the decoder reads forwards only.
            static string[] Names(SequenceToSequenceTransformer model) => [.. model.Model.Parameters.Tensors.Select(t => t.Name)];
            var forwards = Names(Pairs(o => o.Bidirectional = false));
            var both = Names(Pairs(_ => { })); // the default
            Assert.DoesNotContain(forwards, name => name.EndsWith("_reverse", StringComparison.Ordinal));
            Assert.Contains("encoder.weight_ih_l0_reverse", both);
            Assert.DoesNotContain(both, name => name.StartsWith("decoder.", StringComparison.Ordinal) && name.EndsWith("_reverse", StringComparison.Ordinal));
        },
        ["SequenceToSequenceTrainer.Attention"] = () =>
        {
            int Parameters(AttentionKind attention) => Pairs(o => o.Attention = attention).Model.ParameterCount;
            Assert.True(Parameters(AttentionKind.Luong) > Parameters(AttentionKind.None));
            Assert.True(Parameters(AttentionKind.Bahdanau) > Parameters(AttentionKind.None));
            Assert.NotEqual(Parameters(AttentionKind.Bahdanau), Parameters(AttentionKind.Luong));
        },
        ["SequenceToSequenceTrainer.BeamWidth"] = () =>
        {
            var greedy = Decoded(Pairs(Untrained));
            var beam = Decoded(Pairs(o => { Untrained(o); o.BeamWidth = 4; }));
            Assert.NotEqual(greedy, beam);
        },
        ["SequenceToSequenceTrainer.LengthNormalization"] = () =>
        {
            // α = 0 ranks finished hypotheses by log P alone, which favours short ones.
            double MeanLength(float alpha) => Decoded(Pairs(o => { Untrained(o); o.BeamWidth = 4; o.LengthNormalization = alpha; })).Average(keys => keys.Length);
            Assert.True(MeanLength(0) < MeanLength(2), $"α 0: {MeanLength(0):F2}, α 2: {MeanLength(2):F2}");
        },
        ["SequenceToSequenceTrainer.MaximumOutputLength"] = () =>
        {
            Assert.All(Decoded(Pairs(o => { Untrained(o); o.MaximumOutputLength = 2; })), keys => Assert.InRange(keys.Length, 0, 2));
            Assert.Contains(Decoded(Pairs(Untrained)), keys => keys.Length > 2);
        },
        ["SequenceToSequenceTrainer.ForgetGateBias"] = () =>
        {
            // LSTM: the forget gate's bias (rows H..2H of b_ih + b_hh, H = 8) starts at the value.
            var model = Pairs(o => { o.ForgetGateBias = 3; o.LearningRate = 1e-30f; }).Model;
            var tensors = Tensors(stream => SequenceToSequenceModelFile.Save(model, stream));
            var forget = tensors.Where(t => t.Key.EndsWith("bias_ih_l0", StringComparison.Ordinal))
                .Select(t => t.Value.Data.Skip(8).Take(8).Zip(tensors[t.Key.Replace("bias_ih", "bias_hh")].Data.Skip(8).Take(8), (a, b) => a + b)).ToArray();
            Assert.Equal(2, forget.Length); // encoder and decoder
            Assert.All(forget.SelectMany(f => f), b => Assert.Equal(3f, b, 1e-5f));
        },
        ["SequenceToSequenceTrainer.LabelSmoothing"] = () =>
        {
            var plain = Pairs(_ => { }).History!.Epochs[^1].TrainingLoss;
            var smoothed = Pairs(o => o.LabelSmoothing = 0.5f).History!.Epochs[^1].TrainingLoss;
            Assert.True(smoothed > plain + 0.1, $"smoothing 0.5: training loss {smoothed:F3}, plain {plain:F3}");
        },
        ["SequenceToSequenceTrainer.PredictedLabelColumnName"] = () =>
        {
            var scored = Pairs(o => o.PredictedLabelColumnName = "Decoded").Transform(PairData);
            Assert.NotNull(scored.Schema.GetColumnOrNull("Decoded"));
            Assert.Null(scored.Schema.GetColumnOrNull("PredictedLabel"));
        },
        ["LanguageModelTrainer.InputColumnName"] = () =>
        {
            var options = TextOptions();
            options.InputColumnName = nameof(ProbeTextRow.Reversed);
            Assert.Equal(nameof(ProbeTextRow.Reversed), options.FeatureColumnName);
            var model = Text(options);
            Assert.Equal(nameof(ProbeTextRow.Reversed), model.InputColumnName);
            Assert.NotEqual(Flat(Tensors(Text(TextOptions()).Model.Save)), Flat(Tensors(model.Model.Save)));
        },
        ["LanguageModelTrainer.Level"] = () =>
        {
            var options = TextOptions();
            options.Level = VocabularyLevel.Tokens;
            // "abc" and "bad" are the only words; characters are a, b, c, d and the space.
            Assert.Equal(2 + Vocabulary.ReservedCount, Text(options).Vocabulary.Count);
            Assert.Equal(5 + Vocabulary.ReservedCount, Text(TextOptions()).Vocabulary.Count);
        },
        ["LanguageModelTrainer.MinimumTokenCount"] = () =>
        {
            var rows = TextRows.Append(new ProbeTextRow { Text = "xyz" });
            var options = TextOptions();
            Assert.Equal(8 + Vocabulary.ReservedCount, Text(TextOptions(), rows).Vocabulary.Count);
            options.MinimumTokenCount = 2; // x, y and z are seen once: unknown
            Assert.Equal(5 + Vocabulary.ReservedCount, Text(options, rows).Vocabulary.Count);
        },
        ["LanguageModelTrainer.LearnedInitialState"] = () =>
        {
            // Every stream starts from a learned state: the model gains h0 (and c0) and training moves them off zero.
            var options = TextOptions();
            options.LearnedInitialState = true;
            var parameters = Text(options).Model.Model.Parameters;
            Assert.False(Text(TextOptions()).Model.Model.Parameters.Contains("h0_l0"));
            Assert.Contains(parameters.ReadOnlyValuesOf(parameters["h0_l0"]).ToArray(), value => value != 0);
        },
        ["LanguageModelTrainer.ChunkSteps"] = () => AssertTextOptionChangesTheWeights(o => o.ChunkSteps = 3),
        ["LanguageModelTrainer.Streams"] = () => AssertTextOptionChangesTheWeights(o => o.BatchSize = 2),
        ["LanguageModelTrainer.RandomOffsets"] = () => AssertTextOptionChangesTheWeights(o => o.Shuffle = false),
        ["LanguageModelTrainer.ValidationStreams"] = () =>
        {
            // Validation streams are at least 1,000 tokens each; every one starts cold, so 2,600 tokens read as 2 streams score
            // differently from 1 stream, while 300 tokens are one stream whatever the setting.
            double Validation(int streams, int copies)
            {
                var options = TextOptions();
                options.ValidationStreams = streams;
                options.EarlyStoppingPatience = 0;
                var validation = s_mlContext.Data.LoadFromEnumerable(Enumerable.Repeat(TextRows, copies).SelectMany(rows => rows));
                return s_mlContext.LanguageModeling.Trainers.Lstm(options).Fit(TextData, validation).History!.Epochs[^1].ValidationLoss!.Value;
            }
            Assert.NotEqual(Validation(1, copies: 8), Validation(2, copies: 8));
            Assert.Equal(Validation(1, copies: 1), Validation(8, copies: 1));
        },
        ["LanguageModelTrainer.MaxTrainingTime"] = () => AssertTheTimeLimitCutsTheFourthEpoch(),
        ["LanguageModelTrainer.TimeProvider"] = () => AssertTheTimeLimitCutsTheFourthEpoch(),
        ["LanguageModelTrainer.ForgetGateBias"] = () =>
        {
            float[] ForgetBias(float? value)
            {
                var options = TextOptions();
                options.ForgetGateBias = value;
                options.LearningRate = 1e-30f;
                var tensors = Tensors(Text(options).Model.Save);
                return [.. tensors["bias_ih_l0"].Data.Skip(4).Take(4).Zip(tensors["bias_hh_l0"].Data.Skip(4).Take(4), (a, b) => a + b)];
            }
            Assert.All(ForgetBias(1), b => Assert.Equal(1f, b, 1e-5f));
            Assert.All(ForgetBias(2.5f), b => Assert.Equal(2.5f, b, 1e-5f));
            Assert.All(ForgetBias(null), b => Assert.InRange(b, -1f, 1f));
        },
        ["RecurrentForecastingEstimator.OutputColumnName"] = () =>
            Assert.NotNull(Forecast(o => o.OutputColumnName = "Next").Transform(SeriesData).Schema.GetColumnOrNull("Next")),
        ["RecurrentForecastingEstimator.InputColumnName"] = () =>
        {
            // Told to read a column holding the series shifted by 100, the forecaster forecasts values near 100, not near 0.
            var shifted = s_mlContext.Data.LoadFromEnumerable(SeriesRows.Select(o => new Observation { Value = o.Value, Temperature = o.Value + 100 }));
            var options = new RecurrentForecastingEstimator.Options
            {
                InputColumnName = nameof(Observation.Temperature), WindowSize = 12, Horizon = 2, HiddenSize = 4, NumberOfEpochs = 3, Seed = 1,
                MaxDegreeOfParallelism = 1,
            };
            var forecasts = s_mlContext.Forecasting.ForecastByLstm(options).Fit(shifted).Transform(shifted).GetColumn<float[]>("Forecast").SelectMany(f => f);
            Assert.All(forecasts, f => Assert.InRange(f, 98, 102));
        },
        ["RecurrentForecastingEstimator.WindowSize"] = () =>
        {
            Assert.Equal(6, Forecast(o => o.WindowSize = 6).Forecaster.WindowSize);
            Assert.NotEqual(ForecastWeights(_ => { }), ForecastWeights(o => o.WindowSize = 6));
        },
        ["RecurrentForecastingEstimator.Horizon"] = () =>
            Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 4), Forecast(o => o.Horizon = 4).Transform(SeriesData).Schema["Forecast"].Type),
        ["RecurrentForecastingEstimator.ConfidenceLevel"] = () => Assert.True(Width(o => o.ConfidenceLevel = 0.99f) > 1.5 * Width(o => o.ConfidenceLevel = 0.6f)),
        ["RecurrentForecastingEstimator.ConfidenceLowerBoundColumn"] = () => AssertBoundColumns(),
        ["RecurrentForecastingEstimator.ConfidenceUpperBoundColumn"] = () => AssertBoundColumns(),
        ["RecurrentForecastingEstimator.ExogenousColumnNames"] = () =>
        {
            // The exogenous temperature is a second input per step: W_ih is [4H, 2].
            var tensors = Tensors(Forecast(o => o.ExogenousColumnNames = [nameof(Observation.Temperature)]).Forecaster.Save);
            Assert.Equal([16, 2], tensors["weight_ih_l0"].Shape);
            Assert.Equal([16, 1], Tensors(Forecast(_ => { }).Forecaster.Save)["weight_ih_l0"].Shape);
        },
        ["RecurrentForecastingEstimator.IntervalMethod"] = () =>
            Assert.NotEqual(Width(_ => { }), Width(o => o.IntervalMethod = ForecastIntervalMethod.EmpiricalQuantile)),
        ["RecurrentForecastingEstimator.CalibrationFraction"] = () =>
        {
            // A larger held-out tail gives more calibration windows (and trains on fewer observations).
            Assert.True(Forecast(o => o.CalibrationFraction = 0.4).Forecaster.CalibrationWindows > Forecast(_ => { }).Forecaster.CalibrationWindows);
            Assert.NotEqual(Width(_ => { }), Width(o => o.CalibrationFraction = 0.4));
        },
        ["RecurrentForecastingEstimator.RefitOnFullSeries"] = () =>
            Assert.NotEqual(ForecastWeights(_ => { }), ForecastWeights(o => o.RefitOnFullSeries = false)),
        ["RecurrentForecastingEstimator.HiddenSize"] = () => Assert.Equal([20, 5], Tensors(Forecast(o => o.HiddenSize = 5).Forecaster.Save)["weight_hh_l0"].Shape),
        ["RecurrentForecastingEstimator.NumberOfLayers"] = () => Assert.Contains("weight_ih_l1", Tensors(Forecast(o => o.NumberOfLayers = 2).Forecaster.Save).Keys),
        ["RecurrentForecastingEstimator.Dropout"] = () => Assert.NotEqual(ForecastWeights(_ => { }), ForecastWeights(o => o.Dropout = 0.3f)),
        ["RecurrentForecastingEstimator.NumberOfEpochs"] = () => Assert.Equal(5, Forecast(o => o.NumberOfEpochs = 5).Forecaster.History!.Epochs.Count),
        ["RecurrentForecastingEstimator.BatchSize"] = () => Assert.NotEqual(ForecastWeights(_ => { }), ForecastWeights(o => o.BatchSize = 4)),
        ["RecurrentForecastingEstimator.LearningRate"] = () => Assert.NotEqual(ForecastWeights(_ => { }), ForecastWeights(o => o.LearningRate = 0.02f)),
        ["RecurrentForecastingEstimator.EarlyStoppingPatience"] = () =>
        {
            var history = Forecast(o => { o.EarlyStoppingPatience = 1; o.NumberOfEpochs = 60; o.LearningRate = 0.05f; o.RefitOnFullSeries = false; })
                .Forecaster.History!;
            Assert.True(history.StoppedEarly && history.Epochs.Count < 60, $"{history.Epochs.Count} epochs");
        },
        ["RecurrentForecastingEstimator.Seed"] = () =>
        {
            Assert.NotEqual(ForecastWeights(_ => { }), ForecastWeights(o => o.Seed = 2));
            Assert.Equal(ForecastWeights(o => o.Seed = null, new MLContext(seed: 5)), ForecastWeights(o => o.Seed = null, new MLContext(seed: 5)));
            Assert.NotEqual(ForecastWeights(o => o.Seed = null, new MLContext(seed: 5)), ForecastWeights(o => o.Seed = null, new MLContext(seed: 6)));
        },
        ["RecurrentForecastingEstimator.MaxDegreeOfParallelism"] = () =>
            Assert.Equal(ForecastWeights(_ => { }), ForecastWeights(o => o.MaxDegreeOfParallelism = 2)),
        ["RecurrentForecastingEstimator.Logger"] = () =>
        {
            var logger = new RecordingLogger();
            Forecast(o => { o.Logger = logger; o.RefitOnFullSeries = false; });
            Assert.Equal(3, logger.Lines.Count(line => line.Message.StartsWith("Epoch ", StringComparison.Ordinal)));
        },
    };
}
