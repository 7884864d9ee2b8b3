using MlNet.Rnn.Core.Kernels;

namespace MlNet.Rnn.Core.Tests.Kernels;

/// <summary>
/// <see cref="Reductions"/> on every length around the vector width: the double-precision sum, dot product, maximum and softmax, NaN
/// carried by the maximum, refusals, and no allocation per call on either framework (on .NET 8 TensorPrimitives'
/// versions allocate 128 bytes a call, once per scored row of a language model).
/// </summary>
public sealed class ReductionsTests
{
    [Fact]
    public void SumDotAndMax_AreThoseOfTheDoubleReference_AtEveryLength()
    {
        var random = new Random(7);
        foreach (int n in new[] { 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 100 })
        {
            float[] a = [.. Enumerable.Range(0, n).Select(_ => random.NextSingle() * 2 - 1)];
            float[] b = [.. Enumerable.Range(0, n).Select(_ => random.NextSingle() * 2 - 1)];
            double sum = a.Sum(v => (double)v), dot = a.Zip(b).Sum(p => (double)p.First * p.Second);
            Assert.True(Math.Abs(Reductions.Sum(a) - sum) <= 1e-5 * n, $"n={n}: sum {Reductions.Sum(a)}, reference {sum}");
            Assert.True(Math.Abs(Reductions.Dot(a, b) - dot) <= 1e-5 * n, $"n={n}: dot {Reductions.Dot(a, b)}, reference {dot}");
            Assert.Equal(a.Max(), Reductions.Max(a));
            double total = a.Sum(v => Math.Exp(v));
            float[] softmax = new float[n + 1];
            softmax[n] = 42f;
            Reductions.SoftMax(a, softmax);
            for (int i = 0; i < n; i++) Assert.True(Math.Abs(softmax[i] - Math.Exp(a[i]) / total) <= 1e-6, $"n={n}: softmax[{i}] {softmax[i]}");
            Assert.Equal(42f, softmax[n]);
        }
    }

    [Fact]
    public void Max_CarriesNaN_AndEmptyOrMismatchedSpansAreRefused()
    {
        float[] values = [1f, float.NaN, 3f, 2f, 0f, -1f, 5f, 4f, 8f, 9f];
        Assert.True(float.IsNaN(Reductions.Max(values)));
        Assert.Throws<ArgumentException>(() => Reductions.Max([]));
        Assert.Throws<ArgumentException>(() => Reductions.Dot(new float[3], new float[4]));
    }

    [Fact]
    public void NoCallAllocates()
    {
        float[] a = new float[100], b = new float[100];
        a.AsSpan().Fill(0.5f);
        b.AsSpan().Fill(2f);
        float total = 0;
        float[] p = new float[100];
        for (int i = 0; i < 100; i++) total += Reductions.Sum(a) + Reductions.Dot(a, b) + Reductions.Max(a);
        for (int i = 0; i < 100; i++) Reductions.SoftMax(a, p);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) total += Reductions.Sum(a) + Reductions.Dot(a, b) + Reductions.Max(a);
        for (int i = 0; i < 1000; i++) Reductions.SoftMax(a, p);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1100 * (50f + 100f + 0.5f), total);
        Assert.True(Math.Abs(p[0] - 0.01f) < 1e-6f, $"softmax of 100 equal values gave {p[0]}");
        Assert.True(allocated == 0, $"1,000 calls of each allocated {allocated} bytes");
    }
}
