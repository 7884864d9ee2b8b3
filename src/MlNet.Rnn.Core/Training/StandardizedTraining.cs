using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// <see cref="TrainerOptions.Standardize"/> for a <see cref="SequenceModel"/>: the inputs' and targets' means and scales from the
/// training data, applied to each batch while training, and folded into the model afterwards. With <c>z = (x − μ) / s</c>
/// per input feature i, the first layer's <c>W x' + b</c> on z equals <c>(W / s) x + (b − (W / s) μ)</c> on x; with a head
/// trained on targets <c>(y − μ_y) / s_y</c>, <c>s_y (V h + c) + μ_y</c> is <c>(s_y V) h + (s_y c + μ_y)</c>.
/// </summary>
internal sealed class StandardizedTraining
{
    private readonly Standardization? _inputs, _targets;

    private StandardizedTraining(Standardization? inputs, Standardization? targets)
    {
        _inputs = inputs;
        _targets = targets;
    }

    /// <summary>
    /// Fits the numeric inputs' features (none for tokens) and, when asked, the targets, over the parts of the training data
    /// it is given one at a time.
    /// </summary>
    public sealed class Accumulator(ISequenceSource data, bool targets)
    {
        private readonly Standardization.Accumulator? _inputs = data.FeaturesPerStep == 0 ? null : new(data.FeaturesPerStep); // 0: tokens
        private readonly Standardization.Accumulator? _targets = targets ? new(data.TargetWidth) : null;

        /// <summary>Adds every example of <paramref name="part"/>.</summary>
        public void Add(SequenceDataset part)
        {
            _inputs?.Add(part.AllSteps);
            _targets?.Add(part.AllTargets);
        }

        /// <summary>The standardization of what was added.</summary>
        public StandardizedTraining Result() => new(_inputs?.Result(), _targets?.Result());
    }

    /// <summary>
    /// The loss to train the standardized targets with: a Huber loss's δ divided by the target's scale, so it still means δ
    /// in the target's units (the loss is then the raw one over s², which changes no step of a scale-free optimizer such as
    /// Adam); any other loss as it is.
    /// </summary>
    public ILoss LossFor(ILoss loss) => loss is Huber huber && _targets is { Features: 1 } ? new Huber(huber.Delta / _targets.Scale[0]) : loss;

    /// <summary>Standardizes a batch in place: the real steps of every row, and the targets.</summary>
    public void Apply(SequenceBatch batch)
    {
        if (_inputs is not null && !batch.Tokens)
        {
            int B = batch.BatchSize, I = batch.FeaturesPerStep;
            Span<float> input = batch.Input;
            ReadOnlySpan<int> lengths = batch.Lengths;
            for (int b = 0; b < B; b++)
                for (int t = 0; t < lengths[b]; t++)
                {
                    Span<float> step = input.Slice((t * B + b) * I, I);
                    for (int i = 0; i < I; i++) step[i] = _inputs.Apply(step[i], i);
                }
        }
        if (_targets is not null)
        {
            int W = batch.TargetWidth;
            Span<float> targets = batch.Targets;
            for (int k = 0; k < targets.Length; k++) targets[k] = _targets.Apply(targets[k], k % W);
        }
    }

    /// <summary>Folds the scales into <paramref name="model"/>'s first layer and head: it then reads and predicts raw values.</summary>
    public void Fold(SequenceModel model) => Transform(model, fold: true);

    /// <summary>Undoes <see cref="Fold"/>, so training can go on in standardized units.</summary>
    public void Unfold(SequenceModel model) => Transform(model, fold: false);

    private void Transform(SequenceModel model, bool fold)
    {
        var parameters = model.Parameters;
        if (_inputs is not null)
        {
            int I = _inputs.Features;
            foreach (string suffix in model.Options.Bidirectional ? new[] { "l0", "l0_reverse" } : ["l0"])
            {
                var weight = parameters.ValuesOf(parameters[$"weight_ih_{suffix}"]);
                var bias = parameters.ValuesOf(parameters[$"bias_ih_{suffix}"]);
                for (int r = 0; r < bias.Length; r++)
                {
                    Span<float> row = weight.Slice(r * I, I);
                    for (int i = 0; i < I; i++)
                    {
                        float mean = _inputs.Mean[i], scale = _inputs.Scale[i];
                        if (fold)
                        {
                            row[i] /= scale;
                            bias[r] -= row[i] * mean;
                        }
                        else
                        {
                            bias[r] += row[i] * mean;
                            row[i] *= scale;
                        }
                    }
                }
            }
        }
        if (_targets is not null)
        {
            var weight = parameters.ValuesOf(parameters["head.weight"]);
            var bias = parameters.ValuesOf(parameters["head.bias"]);
            int inputs = weight.Length / bias.Length;
            for (int o = 0; o < bias.Length; o++)
            {
                float mean = _targets.Mean[o], scale = _targets.Scale[o];
                Span<float> row = weight.Slice(o * inputs, inputs);
                for (int j = 0; j < inputs; j++) row[j] = fold ? row[j] * scale : row[j] / scale;
                bias[o] = fold ? bias[o] * scale + mean : (bias[o] - mean) / scale;
            }
        }
    }
}
