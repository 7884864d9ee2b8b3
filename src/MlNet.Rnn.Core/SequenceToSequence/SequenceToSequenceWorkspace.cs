using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Layers;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// One caller's scratch for decoding with a shared <see cref="SequenceToSequenceModel"/> (<see cref="SequenceToSequenceModel.CreateWorkspace"/>):
/// the encoder's and decoder's workspaces, the memory <c>[S, B, D·H]</c>, the bridged and stepped decoder states and the attention's
/// keys and weights. The model stays read-only and is never copied; the workspace is created empty and grows to the largest batch.
/// Not thread-safe: one per thread, cursor or prediction engine; any number may decode with one model at once.
/// </summary>
public sealed class SequenceToSequenceWorkspace
{
    private readonly SequenceBatch _batch = new();
    private int[] _indices = [];

    internal SequenceToSequenceWorkspace(SequenceToSequenceModel model, RecurrentNetworkWorkspace? encoder, RecurrentNetworkWorkspace? decoder,
        LuongAttention.Workspace? luong, BahdanauAttention.Workspace? bahdanau)
    {
        Model = model;
        Encoder = encoder;
        Decoder = decoder;
        Luong = luong;
        Bahdanau = bahdanau;
    }

    /// <summary>The model this workspace decodes with.</summary>
    public SequenceToSequenceModel Model { get; }

    /// <summary>
    /// Translates every source of <paramref name="sources"/> (a token data set; its targets are ignored), as
    /// <see cref="SequenceToSequenceModel.Translate(IReadOnlyList{int[]}, DecodingOptions?)"/> does, bit for bit: greedy decoding
    /// runs them as one batch, beam search one source at a time.
    /// </summary>
    public Translation[] Translate(SequenceDataset sources, DecodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sources);
        if (!sources.Tokens) throw new ArgumentException("The sources are numeric sequences; a sequence-to-sequence model reads token ids.", nameof(sources));
        options ??= new DecodingOptions();
        options.Validate();
        int B = sources.Count;
        if (B == 0) return [];
        if (_indices.Length < B) _indices = new int[Math.Max(B, 2 * _indices.Length)];
        for (int b = 0; b < B; b++) _indices[b] = b;
        sources.Fill(_indices.AsSpan(0, B), _batch);
        ReadOnlySpan<int> ids = _batch.Ids, lengths = _batch.Lengths;
        int S = _batch.Steps;
        Span<int> source = S <= 1024 ? stackalloc int[S] : new int[S];
        for (int b = 0; b < B; b++)
        {
            for (int s = 0; s < lengths[b]; s++) source[s] = ids[s * B + b];
            Model.CheckSource(source[..lengths[b]], b);
        }
        return Model.Translate(this, ids, B, lengths, options);
    }

    /// <summary>The encoder's workspace; null for the model's own, which uses the encoder's own buffers.</summary>
    internal RecurrentNetworkWorkspace? Encoder { get; }

    /// <summary>The decoder's workspace; null for the model's own.</summary>
    internal RecurrentNetworkWorkspace? Decoder { get; }

    internal LuongAttention.Workspace? Luong { get; }

    internal BahdanauAttention.Workspace? Bahdanau { get; }

    internal float[] SourceEmbedded = [], Memory = [], EncoderHidden = [], EncoderCell = [], InitialHidden = [], InitialCell = [],
        TargetEmbedded = [], DecoderOutput = [], Features = [], NextHidden = [], NextCell = [], RepeatedMemory = [], StepInputs = [];

    internal int[] RepeatedLengths = [];

    internal int SourceSteps, Batch;
}
