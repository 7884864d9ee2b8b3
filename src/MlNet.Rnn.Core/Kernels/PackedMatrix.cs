namespace MlNet.Rnn.Core.Kernels;

/// <summary>
/// op(B)[k×n] copied once into the layout the GEMM micro-kernel reads, so a weight matrix used at every time
/// step is packed once per pass, not once per step.
/// </summary>
/// <remarks>
/// Layout: k-blocks of <c>Kc</c> = 256 rows; within a block of kc rows, column panels of 32 floats, each stored
/// as kc consecutive rows of 32 (columns past n are zero). Element (p, j) of block pc, panel q = j / 32, is at
/// <c>pc·(panels·32) + q·kc·32 + (p − pc)·32 + j mod 32</c>. The storage is pinned and 64-byte aligned.
/// </remarks>
public sealed unsafe class PackedMatrix
{
    private float[] _storage = [];
    private float* _data;

    /// <summary>k: rows of op(B).</summary>
    public int Depth { get; private set; }

    /// <summary>n: columns of op(B).</summary>
    public int Columns { get; private set; }

    /// <summary>Column panels of 32: ⌈n / 32⌉.</summary>
    internal int PanelCount => PanelsFor(Columns);

    /// <summary>Column panels of 32 that n columns take: ⌈n / 32⌉.</summary>
    internal static int PanelsFor(int n) => (int)(((long)n + Gemm.Nr - 1) / Gemm.Nr);

    /// <summary>n rounded up to whole panels: the floats per packed row.</summary>
    internal int PackedWidth => PanelCount * Gemm.Nr;

    internal float* Data => _data;

    /// <summary>Packs op(B)[k×n]; reuses this instance's storage when it is large enough.</summary>
    /// <param name="b">B, stored [k×n] (or [n×k] when <paramref name="transposeB"/>).</param>
    /// <param name="ldb">Leading dimension of B as stored.</param>
    /// <param name="transposeB">Whether op(B) = Bᵀ.</param>
    /// <param name="k">Rows of op(B).</param>
    /// <param name="n">Columns of op(B).</param>
    public void Pack(ReadOnlySpan<float> b, int ldb, bool transposeB, int k, int n)
    {
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k (rows of op(B)) must be non-negative.");
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n (columns of op(B)) must be non-negative.");
        Gemm.CheckOperand(nameof(b), b, ldb, nameof(ldb), transposeB ? n : k, transposeB ? k : n, transposeB);
        Prepare(k, n);
        fixed (float* pb = b)
        {
            PackPanels(pb, ldb, transposeB, 0, PanelCount);
        }
    }

    /// <summary>Sets the shape and makes room for it, keeping the storage when it is large enough.</summary>
    internal void Prepare(int k, int n)
    {
        long floats = (long)k * PanelsFor(n) * Gemm.Nr;
        if (floats > Array.MaxLength - AlignedArray.Slack)
            throw new ArgumentException($"op(B) [{k}×{n}] is too large to pack ({floats} floats).", nameof(k));
        AlignedArray.Ensure(ref _storage, ref _data, (int)floats);
        Depth = k;
        Columns = n;
    }

    /// <summary>Packs column panels [q0, q1) of every k-block; threads may pack disjoint panel ranges at once.</summary>
    internal void PackPanels(float* b, int ldb, bool transposeB, int q0, int q1)
    {
        int j0 = q0 * Gemm.Nr, j1 = Math.Min(Columns, q1 * Gemm.Nr);
        if (j1 <= j0) return;
        for (int pc = 0; pc < Depth; pc += Gemm.Kc)
        {
            int kc = Math.Min(Gemm.Kc, Depth - pc);
            float* block = _data + (long)pc * PackedWidth + (long)q0 * kc * Gemm.Nr;
            Gemm.PackBBlock(b, ldb, transposeB, pc, kc, j0, j1 - j0, block);
        }
    }
}
