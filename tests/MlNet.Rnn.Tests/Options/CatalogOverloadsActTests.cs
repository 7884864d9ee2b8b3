using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Tests.Forecasting;
using static MlNet.Rnn.Tests.Options.OptionProbe;

namespace MlNet.Rnn.Tests.Options;

/// <summary>
/// Every parameter of every simple catalog overload acts: a fit through the simple overload, every argument away from its
/// default, is bit for bit the fit through the options overload with the same values (and a context of the same seed), and
/// the options tests show each of those values changes the model. The three cells of a catalog give models of 4, 3 and 1
/// gate blocks.
/// </summary>
public sealed class CatalogOverloadsActTests
{
    private static readonly ProbeRow[] s_rows = OptionProbe.Rows(32, seed: 9).Select((row, r) => { row.Weight = r % 4 == 0 ? 0 : 1; return row; }).ToArray();

    private static IDataView Data(MLContext mlContext) => ToDataView(mlContext, s_rows);

    private static T Filled<T>(T options, string label) where T : RecurrentTrainerOptions
    {
        options.LabelColumnName = label;
        options.FeatureColumnName = nameof(ProbeRow.Copy);
        options.ExampleWeightColumnName = nameof(ProbeRow.Weight);
        options.FeaturesPerStep = 2;
        options.HiddenSize = 3;
        options.NumberOfLayers = 2;
        options.Bidirectional = true;
        options.NumberOfEpochs = 2;
        options.BatchSize = 16;
        options.LearningRate = 0.02f;
        return options;
    }

    [Fact]
    public void BinaryMulticlassAndRegressionSimpleOverloadsFitAsTheirOptions()
    {
        foreach (var cell in new[] { RecurrentCellType.Lstm, RecurrentCellType.Gru, RecurrentCellType.Rnn })
        {
            var a = new MLContext(seed: 3);
            var b = new MLContext(seed: 3);
            var binary = a.BinaryClassification.Trainers;
            var simpleBinary = cell switch
            {
                RecurrentCellType.Lstm => binary.Lstm("Flipped", "Copy", "Weight", 2, 3, 2, true, 2, 16, 0.02f),
                RecurrentCellType.Gru => binary.Gru("Flipped", "Copy", "Weight", 2, 3, 2, true, 2, 16, 0.02f),
                _ => binary.Rnn("Flipped", "Copy", "Weight", 2, 3, 2, true, 2, 16, 0.02f),
            };
            Assert.Equal(Weights(CellTrainers.Binary(b, cell, Filled(new RecurrentBinaryTrainer.Options(), "Flipped")).Fit(Data(b))), Weights(simpleBinary.Fit(Data(a))));

            var regression = a.Regression.Trainers;
            var simpleRegression = cell switch
            {
                RecurrentCellType.Lstm => regression.Lstm("Negated", "Copy", "Weight", 2, 3, 2, true, 2, 16, 0.02f),
                RecurrentCellType.Gru => regression.Gru("Negated", "Copy", "Weight", 2, 3, 2, true, 2, 16, 0.02f),
                _ => regression.Rnn("Negated", "Copy", "Weight", 2, 3, 2, true, 2, 16, 0.02f),
            };
            var regressionModel = simpleRegression.Fit(Data(a));
            Assert.Equal(Weights(CellTrainers.Regression(b, cell, Filled(new RecurrentRegressionTrainer.Options(), "Negated")).Fit(Data(b))), Weights(regressionModel));
            // Two bidirectional layers of H = 3 with G gate blocks, then the head: the cell's gate count shows in the size.
            int G = cell switch { RecurrentCellType.Lstm => 4, RecurrentCellType.Gru => 3, _ => 1 };
            Assert.Equal(2 * (G * 3 * (2 + 3) + 2 * G * 3) + 2 * (G * 3 * (6 + 3) + 2 * G * 3) + 6 + 1, Weights(regressionModel).Length);

            var multiclass = a.MulticlassClassification.Trainers;
            var simpleMulticlass = cell switch
            {
                RecurrentCellType.Lstm => multiclass.Lstm("Key", "Copy", "Weight", 2, 3, 2, true, 2, 16, 0.02f),
                RecurrentCellType.Gru => multiclass.Gru("Key", "Copy", "Weight", 2, 3, 2, true, 2, 16, 0.02f),
                _ => multiclass.Rnn("Key", "Copy", "Weight", 2, 3, 2, true, 2, 16, 0.02f),
            };
            IDataView Keyed(MLContext mlContext) => mlContext.Transforms.Conversion.MapValueToKey("Key", nameof(ProbeRow.Class)).Fit(Data(mlContext)).Transform(Data(mlContext));
            Assert.Equal(Weights(CellTrainers.Multiclass(b, cell, Filled(new RecurrentMulticlassTrainer.Options(), "Key")).Fit(Keyed(b))),
                Weights(simpleMulticlass.Fit(Keyed(a))));
        }
    }

    [Fact]
    public void TaggingSimpleOverloadsFitAsTheirOptions()
    {
        IDataView Tagged(MLContext mlContext)
        {
            var rows = s_rows.Select(row => new ProbeTagRow
            {
                Features = row.Copy, Weight = row.Weight, Tags = [.. Enumerable.Range(0, row.Copy.Length / 2).Select(t => row.Copy[2 * t] > 0 ? "up" : "down")],
            });
            var raw = mlContext.Data.LoadFromEnumerable(rows);
            return mlContext.Transforms.Conversion.MapValueToKey("Key", nameof(ProbeTagRow.Tags)).Fit(raw).Transform(raw);
        }
        foreach (var cell in new[] { RecurrentCellType.Lstm, RecurrentCellType.Gru, RecurrentCellType.Rnn })
        {
            var a = new MLContext(seed: 3);
            var b = new MLContext(seed: 3);
            var simple = a.SequenceTagging.Trainers;
            var trainer = cell switch
            {
                RecurrentCellType.Lstm => simple.Lstm("Key", "Features", "Weight", 2, 3, 2, false, 2, 16, 0.02f),
                RecurrentCellType.Gru => simple.Gru("Key", "Features", "Weight", 2, 3, 2, false, 2, 16, 0.02f),
                _ => simple.Rnn("Key", "Features", "Weight", 2, 3, 2, false, 2, 16, 0.02f),
            };
            var options = Filled(new SequenceTaggingTrainer.Options(), "Key");
            options.FeatureColumnName = "Features";
            options.Bidirectional = false;
            var byOptions = b.SequenceTagging.Trainers;
            var expected = cell switch { RecurrentCellType.Lstm => byOptions.Lstm(options), RecurrentCellType.Gru => byOptions.Gru(options), _ => byOptions.Rnn(options) };
            Assert.Equal(Weights(expected.Fit(Tagged(b))), Weights(trainer.Fit(Tagged(a))));
        }
    }

    [Fact]
    public void SequenceToSequenceSimpleOverloadsFitAsTheirOptions()
    {
        IDataView Pairs(MLContext mlContext)
        {
            var rows = s_rows.Take(16).Select(row => new ProbePairRow
            {
                Source = [.. row.Copy.Take(4).Select(v => v > 0 ? "p" : "n")], Reversed = [.. row.Copy.Take(4).Reverse().Select(v => v > 0 ? "P" : "N")],
            });
            var raw = mlContext.Data.LoadFromEnumerable(rows);
            return mlContext.Transforms.Conversion.MapValueToKey("In", nameof(ProbePairRow.Source))
                .Append(mlContext.Transforms.Conversion.MapValueToKey("Out", nameof(ProbePairRow.Reversed))).Fit(raw).Transform(raw);
        }
        foreach (var cell in new[] { RecurrentCellType.Lstm, RecurrentCellType.Gru, RecurrentCellType.Rnn })
        {
            var a = new MLContext(seed: 3);
            var b = new MLContext(seed: 3);
            var simple = a.SequenceToSequence.Trainers;
            var trainer = cell switch
            {
                RecurrentCellType.Lstm => simple.Lstm("Out", "In", 3, 2, true, AttentionKind.Bahdanau, 2, 8, 0.02f),
                RecurrentCellType.Gru => simple.Gru("Out", "In", 3, 2, true, AttentionKind.Bahdanau, 2, 8, 0.02f),
                _ => simple.Rnn("Out", "In", 3, 2, true, AttentionKind.Bahdanau, 2, 8, 0.02f),
            };
            var options = new SequenceToSequenceTrainer.Options
            {
                LabelColumnName = "Out", FeatureColumnName = "In", HiddenSize = 3, NumberOfLayers = 2, Bidirectional = true, Attention = AttentionKind.Bahdanau,
                NumberOfEpochs = 2, BatchSize = 8, LearningRate = 0.02f,
            };
            var byOptions = b.SequenceToSequence.Trainers;
            var expected = cell switch { RecurrentCellType.Lstm => byOptions.Lstm(options), RecurrentCellType.Gru => byOptions.Gru(options), _ => byOptions.Rnn(options) };
            Assert.Equal(Flat(Tensors(stream => SequenceToSequenceModelFile.Save(expected.Fit(Pairs(b)).Model, stream))),
                Flat(Tensors(stream => SequenceToSequenceModelFile.Save(trainer.Fit(Pairs(a)).Model, stream))));
        }
    }

    [Fact]
    public void LanguageModelingSimpleOverloadsFitAsTheirOptions()
    {
        IDataView Text(MLContext mlContext) => mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 12).Select(i => new ProbeTextRow
        {
            Reversed = i % 2 == 0 ? "abc abd abc" : "bad cab abc",
        }));
        foreach (var cell in new[] { RecurrentCellType.Lstm, RecurrentCellType.Gru, RecurrentCellType.Rnn })
        {
            var a = new MLContext(seed: 3);
            var b = new MLContext(seed: 3);
            var simple = a.LanguageModeling.Trainers;
            var trainer = cell switch
            {
                RecurrentCellType.Lstm => simple.Lstm("Reversed", VocabularyLevel.Tokens, 3, 2, 2, 0.02f),
                RecurrentCellType.Gru => simple.Gru("Reversed", VocabularyLevel.Tokens, 3, 2, 2, 0.02f),
                _ => simple.Rnn("Reversed", VocabularyLevel.Tokens, 3, 2, 2, 0.02f),
            };
            var options = new LanguageModelTrainer.Options
            {
                InputColumnName = "Reversed", Level = VocabularyLevel.Tokens, HiddenSize = 3, NumberOfLayers = 2, NumberOfEpochs = 2, LearningRate = 0.02f,
            };
            var byOptions = b.LanguageModeling.Trainers;
            var expected = cell switch { RecurrentCellType.Lstm => byOptions.Lstm(options), RecurrentCellType.Gru => byOptions.Gru(options), _ => byOptions.Rnn(options) };
            Assert.Equal(Flat(Tensors(expected.Fit(Text(b)).Model.Save)), Flat(Tensors(trainer.Fit(Text(a)).Model.Save)));
        }
    }

    [Fact]
    public void ForecastingSimpleOverloadsFitAsTheirOptions()
    {
        var series = ForecastingTests.Series(72);
        foreach (var cell in new[] { RecurrentCellType.Lstm, RecurrentCellType.Gru, RecurrentCellType.Rnn })
        {
            var a = new MLContext(seed: 3);
            var b = new MLContext(seed: 3);
            var simple = cell switch
            {
                RecurrentCellType.Lstm => a.Forecasting.ForecastByLstm("Out", "Value", 6, 2, 0.8f, "Lo", "Up", ["Temperature"], 3, 2, 0.02f),
                RecurrentCellType.Gru => a.Forecasting.ForecastByGru("Out", "Value", 6, 2, 0.8f, "Lo", "Up", ["Temperature"], 3, 2, 0.02f),
                _ => a.Forecasting.ForecastByRnn("Out", "Value", 6, 2, 0.8f, "Lo", "Up", ["Temperature"], 3, 2, 0.02f),
            };
            var options = new RecurrentForecastingEstimator.Options
            {
                OutputColumnName = "Out", InputColumnName = "Value", WindowSize = 6, Horizon = 2, ConfidenceLevel = 0.8f, ConfidenceLowerBoundColumn = "Lo",
                ConfidenceUpperBoundColumn = "Up", ExogenousColumnNames = ["Temperature"], HiddenSize = 3, NumberOfEpochs = 2, LearningRate = 0.02f,
            };
            var expected = cell switch
            {
                RecurrentCellType.Lstm => b.Forecasting.ForecastByLstm(options),
                RecurrentCellType.Gru => b.Forecasting.ForecastByGru(options),
                _ => b.Forecasting.ForecastByRnn(options),
            };
            var expectedModel = expected.Fit(b.Data.LoadFromEnumerable(series));
            var model = simple.Fit(a.Data.LoadFromEnumerable(series));
            Assert.Equal(Flat(Tensors(expectedModel.Forecaster.Save)), Flat(Tensors(model.Forecaster.Save)));
            var scored = model.Transform(a.Data.LoadFromEnumerable(series));
            foreach (string column in new[] { "Out", "Lo", "Up" })
                Assert.Equal(Tests.Fingerprint.Of(expectedModel.Transform(b.Data.LoadFromEnumerable(series)), column), Tests.Fingerprint.Of(scored, column));
        }
    }
}
