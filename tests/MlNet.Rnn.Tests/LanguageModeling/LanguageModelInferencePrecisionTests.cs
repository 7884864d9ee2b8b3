using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.Layers;

namespace MlNet.Rnn.Tests.LanguageModeling;

/// <summary>
/// <c>mlContext.Model.WithInferencePrecision</c> on a language model: the int8 copy's per-row scores are close to the float
/// model's and not equal to them, <c>Score</c> agrees with its <c>Transform</c> bit for bit, generation stays float, the float model
/// is unchanged, and the precision survives save and load.
/// </summary>
public sealed class LanguageModelInferencePrecisionTests(RepeatedTextModel fixture) : IClassFixture<RepeatedTextModel>
{
    private static float[] LogLikelihoods(ITransformer model, IDataView data) => [.. model.Transform(data).GetColumn<float>("LogLikelihood")];

    [Fact]
    public void AnInt8Copy_ScoresCloseToTheFloatModel_ScoreAgreesWithTransform_AndGenerationStaysFloat()
    {
        var model = fixture.Model;
        var int8 = fixture.MLContext.Model.WithInferencePrecision(model, InferencePrecision.Int8);
        Assert.Equal(InferencePrecision.Int8, int8.Precision);
        Assert.Equal(InferencePrecision.Float32, model.Precision);

        float[] before = LogLikelihoods(model, fixture.Test), quantized = LogLikelihoods(int8, fixture.Test);
        Assert.NotEqual(before, quantized);
        for (int r = 0; r < before.Length; r++)
            Assert.True(Math.Abs(before[r] - quantized[r]) <= 0.02 * Math.Max(1, Math.Abs(before[r])), $"row {r}: float {before[r]}, int8 {quantized[r]}");
        string[] texts = [.. fixture.Test.GetColumn<string>("Text")];
        for (int r = 0; r < texts.Length; r++) Assert.Equal(quantized[r], (float)int8.Score(texts[r]).LogLikelihood);
        Assert.Equal(before, LogLikelihoods(model, fixture.Test));
        Assert.Equal(model.Generate("the ", maxLength: 20, seed: 5), int8.Generate("the ", maxLength: 20, seed: 5));
        Assert.Same(int8, fixture.MLContext.Model.WithInferencePrecision(int8, InferencePrecision.Int8));
    }

    [Fact]
    public void ThePrecision_IsSavedWithTheModel()
    {
        var int8 = fixture.MLContext.Model.WithInferencePrecision(fixture.Model, InferencePrecision.Int8);
        using var stream = new MemoryStream();
        fixture.MLContext.Model.Save(int8, fixture.Train.Schema, stream);
        stream.Position = 0;
        var loaded = (LanguageModelTransformer)fixture.MLContext.Model.Load(stream, out _);
        Assert.Equal(InferencePrecision.Int8, loaded.Precision);
        Assert.Equal(LogLikelihoods(int8, fixture.Test), LogLikelihoods(loaded, fixture.Test));
        // Typed ITransformer, as Load returns it.
        var back = fixture.MLContext.Model.WithInferencePrecision((ITransformer)loaded, InferencePrecision.Float32);
        Assert.Equal(LogLikelihoods(fixture.Model, fixture.Test), LogLikelihoods(back, fixture.Test));
    }
}
