using System.Runtime.CompilerServices;
using MlNet.Rnn.Core.Kernels;

namespace MlNet.Rnn.Core.Tests.Kernels;

/// <summary>
/// The packing buffers behind every product: pinned (the kernels hold raw pointers across the product), 64-byte aligned,
/// at least as large as asked after any growth, kept while large enough, and the packed B exactly ⌈n / 32⌉ panels wide.
/// A buffer one panel short or one block unpinned gives the right answer on most runs and corrupts memory on the rest,
/// so these are checked directly rather than through products.
/// </summary>
[Collection(GemmCollection.Name)]
public sealed unsafe class PackingBufferTests
{
    [Fact]
    public void Ensure_GrowsToAtLeastWhatIsAsked_AlignedAndPinned_AndKeepsABufferThatIsLargeEnough()
    {
        float[] array = [];
        float* data = null;
        foreach (int floats in new[] { 1, 100, 101, 117, 1000, 1000, 40, 5000 })
        {
            float[] before = array;
            float* pointer = AlignedArray.Ensure(ref array, ref data, floats);
            Assert.True(pointer == data);
            Assert.Equal(0, (long)(nuint)data % 64);
            float* start = (float*)Unsafe.AsPointer(ref array[0]);
            long usable = array.Length - (data - start);
            Assert.True(usable >= floats, $"asked for {floats} floats, {usable} usable from the aligned start");
            if (before.Length >= floats + AlignedArray.Slack) Assert.Same(before, array);
            else Assert.NotSame(before, array);
            // Pinned arrays live on the pinned object heap, which the runtime reports as the oldest generation.
            Assert.Equal(GC.MaxGeneration, GC.GetGeneration(array));
        }
        Assert.Equal(5000 + AlignedArray.Slack, array.Length);
    }

    [Fact]
    public void ASmallProduct_AtItsSteadyState_AllocatesNothing()
    {
        // Below the parallel threshold the whole product runs on this thread, with this thread's packing buffers.
        const int m = 8, n = 40, k = 24;
        var rng = new Random(3);
        float[] a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] b = Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble()).ToArray();
        var c = new float[m * n];
        Gemm.Multiply(m, n, k, a, k, false, b, n, false, c, n, false);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) Gemm.Multiply(m, n, k, a, k, false, b, n, false, c, n, false);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(31, 1)]
    [InlineData(32, 1)]
    [InlineData(33, 2)]
    [InlineData(64, 2)]
    [InlineData(65, 3)]
    [InlineData(2_147_483_647, 67_108_864)]
    public void PackedB_IsWholePanelsOf32(int n, int panels)
    {
        Assert.Equal(panels, PackedMatrix.PanelsFor(n));
        if (n > 100) return;
        var packed = new PackedMatrix();
        packed.Pack(new float[3 * n], n, false, 3, n);
        Assert.Equal(panels, packed.PanelCount);
        Assert.Equal(32 * panels, packed.PackedWidth);
    }

    [Fact]
    public void PackedB_JustPastWhatAnArrayHolds_IsRefusedBeforeAnyAllocation()
    {
        // 1 × 2 147 483 584 is 67 108 862 whole panels: 2 147 483 584 floats, which fits Array.MaxLength but not with the
        // alignment slack. It must be refused with the packing message, not fail inside the allocator.
        var packed = new PackedMatrix();
        var refused = Assert.Throws<ArgumentException>(() => packed.Prepare(1, 2_147_483_584));
        Assert.Equal("k", refused.ParamName);
        Assert.Contains("is too large to pack (2147483584 floats)", refused.Message);
    }
}
