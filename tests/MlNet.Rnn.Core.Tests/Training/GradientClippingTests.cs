using MlNet.Rnn.Core.Tests.Reference;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Tests.Training;

public sealed class GradientClippingTests
{
    [Theory]
    [InlineData("clip_norm_1")]
    [InlineData("clip_norm_large")]
    public void ClipByGlobalNorm_MatchesPyTorch(string caseName)
    {
        var fixture = TrainingFixture.Load("training_clipping");
        float[] gradients = fixture.Tensor("gradients");
        float norm = GradientClipping.ClipByGlobalNorm(gradients, fixture.Config(caseName).GetSingle());
        Tolerance.AssertClose(fixture.Tensor($"{caseName}.norm"), [norm], 1e-6, 0, $"{caseName}: norm");
        Tolerance.AssertClose(fixture.Tensor($"{caseName}.clipped"), gradients, 1e-6, 1e-7, $"{caseName}: clipped gradients");
    }

    [Fact]
    public void GlobalNorm_MatchesDoubleSum_ForEveryLength()
    {
        var random = new Random(5);
        for (int length = 0; length <= 70; length++)
        {
            var values = new float[length];
            double sum = 0;
            for (int i = 0; i < length; i++)
            {
                values[i] = (float)(random.NextDouble() * 4 - 2);
                sum += (double)values[i] * values[i];
            }
            Assert.Equal((float)Math.Sqrt(sum), GradientClipping.GlobalNorm(values));
        }
    }

    [Fact]
    public void ClipByGlobalNorm_ScalesToMaxNorm_AndKeepsSmallGradients()
    {
        float[] gradients = [3, 4];
        Assert.Equal(5f, GradientClipping.ClipByGlobalNorm(gradients, 1f));
        Assert.Equal(3 * (1f / (5 + 1e-6f)), gradients[0]);
        Assert.Equal(1f, GradientClipping.GlobalNorm(gradients), 1e-6f);
        float[] small = [0.3f, 0.4f];
        Assert.Equal(0.5f, GradientClipping.ClipByGlobalNorm(small, 1f));
        Assert.Equal([0.3f, 0.4f], small);
    }

    [Fact]
    public void ClipByGlobalNorm_NonFiniteNorm_LeavesGradientsAndReturnsIt()
    {
        float[] gradients = [1, float.NaN, 2];
        Assert.True(float.IsNaN(GradientClipping.ClipByGlobalNorm(gradients, 1f)));
        Assert.Equal(1f, gradients[0]);
        float[] huge = [float.PositiveInfinity, 1];
        Assert.Equal(float.PositiveInfinity, GradientClipping.ClipByGlobalNorm(huge, 1f));
        Assert.Equal(1f, huge[1]);
    }

    [Fact]
    public void ClipByValue_ClampsEveryLength()
    {
        for (int length = 0; length <= 40; length++)
        {
            var values = Enumerable.Range(0, length).Select(i => (i - length / 2f) * 0.3f).ToArray();
            var expected = values.Select(v => Math.Clamp(v, -1.5f, 1.5f)).ToArray();
            GradientClipping.ClipByValue(values, 1.5f);
            Assert.Equal(expected, values);
        }
    }

    [Fact]
    public void BadLimits_Throw()
    {
        Assert.Equal("maxNorm", Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByGlobalNorm(new float[2], 0)).ParamName);
        Assert.Equal("maxNorm", Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByGlobalNorm(new float[2], float.NaN)).ParamName);
        Assert.Equal("limit", Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByValue(new float[2], -1)).ParamName);
    }
}
