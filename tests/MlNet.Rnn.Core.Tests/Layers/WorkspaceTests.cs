using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>Workspaces are sized once and reused: nothing is allocated per time step or per row.</summary>
public sealed class WorkspaceTests
{
    [Theory]
    [InlineData("LSTM")]
    [InlineData("GRU")]
    [InlineData("RNN_TANH")]
    public void TrainingPass_AllocationDoesNotGrowWithStepsOrRows(string mode)
    {
        const int B = 16, I = 5, H = 24;
        var network = NetworkFactory.Create(mode, new RecurrentNetworkOptions
        {
            InputSize = I, HiddenSize = H, Layers = 2, Bidirectional = true, MaxDegreeOfParallelism = 1,
        });
        network.Initialize(new Random(1));
        long Allocated(int steps)
        {
            float[] x = NetworkFactory.RandomFloats(new Random(2), steps * B * I);
            var output = new float[steps * B * network.OutputSize];
            int[] lengths = Enumerable.Range(0, B).Select(b => 1 + b * (steps - 1) / (B - 1)).ToArray();
            network.Forward(x, B, lengths, output, training: true);   // sizes the workspaces for this shape
            network.Backward(output);
            long before = GC.GetAllocatedBytesForCurrentThread();
            network.Forward(x, B, lengths, output, training: true);
            network.Backward(output);
            network.Forward(x, B, lengths, output);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        // The least of a few runs: the runtime itself may allocate on this thread now and then (tiering, type loads).
        Allocated(200);
        long shortRun = Enumerable.Range(0, 3).Min(_ => Allocated(20)), longRun = Enumerable.Range(0, 3).Min(_ => Allocated(200));
        Assert.True(longRun <= shortRun && longRun < 4096,
            $"A training pass allocated {shortRun} bytes at T = 20 and {longRun} bytes at T = 200; expected a small constant (delegates), independent of T.");
    }

    [Fact]
    public void PackedLayout_HoldsExactlyTheRealSteps()
    {
        var layout = new SequenceLayout();
        int[] lengths = [3, 7, 1, 7, 5];
        layout.Update(lengths, 7);
        Assert.Equal(lengths.Sum(), layout.TotalRows);
        Assert.Equal([7, 7, 5, 3, 1], layout.SortedLengths.ToArray());
        Assert.Equal([5, 4, 4, 3, 3, 2, 2], layout.BatchSizes.ToArray());
        Assert.Equal([0, 5, 9, 13, 16, 19, 21, 23], layout.Offsets.ToArray());
        Assert.Equal([1, 3, 4, 0, 2], layout.Order.ToArray());
    }
}
