using System.Numerics.Tensors;
using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// Greedy decoding and beam search over a <see cref="SequenceToSequenceModel"/>'s decoding steps. Both choose among the ids
/// a decoder may emit: every target id but <see cref="Vocabulary.UnknownId"/> (text the model cannot write) and the start
/// id (only ever read), as <see cref="Vocabulary"/> documents; a token's log-probability is still the model's, over all V ids.
/// </summary>
internal static class SequenceDecoding
{
    /// <summary>
    /// Greedy: every source of the batch at once (padded ids <c>[S, B]</c> and lengths, decoded in <paramref name="workspace"/>);
    /// at each step the most likely token that may be emitted, until end or MaxLength.
    /// </summary>
    public static Translation[] Greedy(SequenceToSequenceModel model, SequenceToSequenceWorkspace workspace, ReadOnlySpan<int> ids, int B,
        ReadOnlySpan<int> lengths, DecodingOptions options)
    {
        int V = model.TargetVocabularySize, endId = model.Options.EndId, startId = model.Options.StartId;
        var results = new Translation[B];
        if (B == 0) return results;
        int stateLength = model.DecoderStateLength(B);
        float[] hidden = new float[stateLength], cellState = new float[stateLength], logProbabilities = new float[B * V];
        model.BeginDecoding(workspace, ids, B, lengths, 1, hidden, cellState);
        var previous = new int[B];
        Array.Fill(previous, model.Options.StartId);
        var tokens = new List<int>[B];
        var scores = new double[B];
        var done = new bool[B];
        for (int b = 0; b < B; b++) tokens[b] = [];
        int remaining = B;
        for (int step = 0; step < options.MaxLength && remaining > 0; step++)
        {
            model.DecodeStep(workspace, previous, hidden, cellState, logProbabilities);
            for (int b = 0; b < B; b++)
            {
                if (done[b]) continue;
                // The row is scratch (the next step rewrites it): masking the ids that may not be emitted costs nothing.
                Span<float> row = logProbabilities.AsSpan(b * V, V);
                row[Vocabulary.UnknownId] = row[startId] = float.NegativeInfinity;
                int best = TensorPrimitives.IndexOfMax(row);
                scores[b] += row[best];
                previous[b] = best;
                if (best == endId)
                {
                    done[b] = true;
                    remaining--;
                }
                else
                {
                    tokens[b].Add(best);
                }
            }
        }
        for (int b = 0; b < B; b++) results[b] = new Translation(tokens[b].ToArray(), scores[b], done[b]);
        return results;
    }

    /// <summary>
    /// Beam search, one source at a time with its K beams as one batch. Each step extends every live beam by every token that may be emitted;
    /// of the candidates in order of log P, an end token within the first K finishes its hypothesis, other tokens fill the
    /// K live beams. Stops when the likeliest candidate of a step is an end token, when (α = 0) no live beam can beat the
    /// best finished hypothesis, or at MaxLength (live beams then count as finished); returns the finished hypothesis of
    /// highest <c>log P / n^α</c>. With K = 1 this is exactly greedy decoding.
    /// </summary>
    public static Translation[] Beam(SequenceToSequenceModel model, SequenceToSequenceWorkspace workspace, ReadOnlySpan<int> ids, int B,
        ReadOnlySpan<int> lengths, DecodingOptions options)
    {
        int K = options.BeamWidth, V = model.TargetVocabularySize, endId = model.Options.EndId, startId = model.Options.StartId;
        var results = new Translation[B];
        var source = new int[ids.Length / Math.Max(B, 1)];
        int stateLength = model.DecoderStateLength(K);
        float[] hidden = new float[stateLength], cellState = new float[stateLength], logProbabilities = new float[K * V];
        float[] nextHidden = new float[stateLength], nextCell = new float[stateLength];
        int H = model.Options.HiddenSize, L = model.Options.Layers;
        var candidates = new List<(double Score, int Beam, int Token)>(K * V);
        for (int row = 0; row < B; row++)
        {
            int length = lengths[row];
            for (int s = 0; s < length; s++) source[s] = ids[s * B + row];
            model.BeginDecoding(workspace, source.AsSpan(0, length), 1, [length], K, hidden, cellState);
            // Live beams: tokens so far and log P; at the start one beam (the others are copies and would repeat it).
            var beams = new List<(List<int> Tokens, double Score)> { ([], 0) };
            var finished = new List<Translation>();
            var previous = new int[K];
            Array.Fill(previous, model.Options.StartId);
            bool done = false;
            for (int step = 0; step < options.MaxLength && beams.Count > 0 && !done; step++)
            {
                model.DecodeStep(workspace, previous, hidden, cellState, logProbabilities);
                candidates.Clear();
                for (int k = 0; k < beams.Count; k++)
                {
                    ReadOnlySpan<float> logits = logProbabilities.AsSpan(k * V, V);
                    for (int v = 0; v < V; v++)
                        if (v != Vocabulary.UnknownId && v != startId) candidates.Add((beams[k].Score + logits[v], k, v));
                }
                candidates.Sort(CandidateOrder);
                var next = new List<(List<int> Tokens, double Score)>(K);
                var parents = new List<int>(K);
                for (int c = 0; c < candidates.Count && next.Count < K; c++)
                {
                    var (score, beam, token) = candidates[c];
                    if (token == endId)
                    {
                        if (c < K) finished.Add(new Translation(beams[beam].Tokens.ToArray(), score, Ended: true));
                        continue;
                    }
                    next.Add(([.. beams[beam].Tokens, token], score));
                    parents.Add(beam);
                }
                // Reorder the decoder states: live beam j continues from its parent's state.
                for (int j = 0; j < next.Count; j++)
                    for (int l = 0; l < L; l++)
                    {
                        hidden.AsSpan((l * K + parents[j]) * H, H).CopyTo(nextHidden.AsSpan((l * K + j) * H, H));
                        cellState.AsSpan((l * K + parents[j]) * H, H).CopyTo(nextCell.AsSpan((l * K + j) * H, H));
                    }
                (hidden, nextHidden) = (nextHidden, hidden);
                (cellState, nextCell) = (nextCell, cellState);
                beams = next;
                done = candidates[0].Token == endId || Done(finished, beams, options.LengthNormalization);
                for (int j = 0; j < K; j++) previous[j] = j < beams.Count ? beams[j].Tokens[^1] : endId;
            }
            if (!done)
                foreach (var (tokens, score) in beams) finished.Add(new Translation(tokens.ToArray(), score, Ended: false));
            results[row] = finished.MaxBy(t => Normalized(t, options.LengthNormalization))!;
        }
        return results;
    }

    /// <summary>
    /// With α = 0 a hypothesis' log P only falls as it grows, so once the best finished one beats every live beam,
    /// nothing better can come. (With α &gt; 0 there is no such bound; the search stops when the likeliest candidate of a
    /// step is an end token, as OpenNMT's beam search does.)
    /// </summary>
    private static bool Done(List<Translation> finished, List<(List<int> Tokens, double Score)> beams, float alpha)
    {
        if (alpha > 0 || finished.Count == 0) return false;
        double best = finished.Max(t => t.LogProbability);
        return beams.All(beam => beam.Score <= best);
    }

    /// <summary>
    /// The order of a step's candidates: highest score first; ties by beam, then by token, so that the order (and with it the
    /// search) is deterministic although <see cref="List{T}.Sort(Comparison{T})"/> is not stable.
    /// </summary>
    internal static int CandidateOrder((double Score, int Beam, int Token) x, (double Score, int Beam, int Token) y) =>
        y.Score != x.Score ? y.Score.CompareTo(x.Score) : x.Beam != y.Beam ? x.Beam.CompareTo(y.Beam) : x.Token.CompareTo(y.Token);

    /// <summary>
    /// The score a finished hypothesis is chosen by: <c>log P / n^α</c>, where n counts the emitted tokens with the end token
    /// when it ended (its probability is part of log P), at least 1; log P itself when α = 0.
    /// </summary>
    internal static double Normalized(Translation translation, float alpha)
    {
        int emitted = translation.Tokens.Length + (translation.Ended ? 1 : 0);
        return alpha == 0 ? translation.LogProbability : translation.LogProbability / Math.Pow(Math.Max(emitted, 1), alpha);
    }

    /// <summary>Time-major padded ids <c>[S, B]</c> and lengths of the sources.</summary>
    public static (int[] Ids, int[] Lengths) Pad(IReadOnlyList<int[]> sources)
    {
        int B = sources.Count, S = sources.Max(s => s.Length);
        var ids = new int[S * B];
        var lengths = new int[B];
        for (int b = 0; b < B; b++)
        {
            lengths[b] = sources[b].Length;
            for (int s = 0; s < lengths[b]; s++) ids[s * B + b] = sources[b][s];
        }
        return (ids, lengths);
    }
}
