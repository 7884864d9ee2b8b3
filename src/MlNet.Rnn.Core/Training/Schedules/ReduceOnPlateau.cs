using System.Globalization;

namespace MlNet.Rnn.Core.Training;

/// <summary>Whether <see cref="ReduceOnPlateau"/> waits for the metric to fall (a loss) or to rise (an accuracy).</summary>
public enum PlateauMode
{
    /// <summary>Lower is better (PyTorch's <c>mode='min'</c>).</summary>
    Minimize,

    /// <summary>Higher is better (<c>mode='max'</c>).</summary>
    Maximize,
}

/// <summary>How <see cref="ReduceOnPlateau"/> compares a metric with the best so far.</summary>
public enum PlateauThreshold
{
    /// <summary>Better means beyond <c>best·(1 ∓ threshold)</c> (PyTorch's default <c>threshold_mode='rel'</c>).</summary>
    Relative,

    /// <summary>Better means beyond <c>best ∓ threshold</c> (<c>threshold_mode='abs'</c>).</summary>
    Absolute,
}

/// <summary>
/// Reduces the learning rate when a metric stops improving, exactly as <c>torch.optim.lr_scheduler.ReduceLROnPlateau</c>:
/// after each epoch, a metric better than <see cref="Best"/> (by the threshold) resets the count of bad epochs, otherwise
/// counts one; in cooldown the count stays 0; when it exceeds <see cref="Patience"/> the rate becomes
/// <c>max(lr·factor, minimumRate)</c> (only if that lowers it by more than 10⁻⁸) and a cooldown starts.
/// </summary>
/// <remarks>For checkpoints, save and restore <see cref="Best"/>, <see cref="BadEpochs"/> and <see cref="CooldownCounter"/>.</remarks>
public sealed class ReduceOnPlateau
{
    private const double Epsilon = 1e-8;
    private int _badEpochs, _cooldownCounter;

    /// <summary>Creates the scheduler; the arguments and defaults are PyTorch's.</summary>
    /// <param name="mode">Minimize (a loss) or Maximize (an accuracy).</param>
    /// <param name="factor">Multiplier of the rate at a reduction, in (0, 1).</param>
    /// <param name="patience">Bad epochs tolerated before a reduction, ≥ 0.</param>
    /// <param name="threshold">Least improvement that counts, ≥ 0 (relative or absolute, see <paramref name="thresholdMode"/>).</param>
    /// <param name="cooldown">Epochs after a reduction during which bad epochs are not counted, ≥ 0.</param>
    /// <param name="minimumRate">Lower bound of the rate, ≥ 0.</param>
    /// <param name="thresholdMode">Relative (default) or absolute threshold.</param>
    public ReduceOnPlateau(PlateauMode mode = PlateauMode.Minimize, float factor = 0.1f, int patience = 10, double threshold = 1e-4,
        int cooldown = 0, float minimumRate = 0f, PlateauThreshold thresholdMode = PlateauThreshold.Relative)
    {
        if (mode is not (PlateauMode.Minimize or PlateauMode.Maximize)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "mode must be Minimize or Maximize.");
        if (thresholdMode is not (PlateauThreshold.Relative or PlateauThreshold.Absolute))
            throw new ArgumentOutOfRangeException(nameof(thresholdMode), thresholdMode, "thresholdMode must be Relative or Absolute.");
        if (!(factor > 0 && factor < 1))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, string.Create(CultureInfo.InvariantCulture, $"factor must be in (0, 1); it is {factor}."));
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), patience, "patience must be ≥ 0.");
        if (!(threshold >= 0 && double.IsFinite(threshold)))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, string.Create(CultureInfo.InvariantCulture, $"threshold must be a finite number ≥ 0; it is {threshold}."));
        if (cooldown < 0) throw new ArgumentOutOfRangeException(nameof(cooldown), cooldown, "cooldown must be ≥ 0.");
        if (!(minimumRate >= 0 && float.IsFinite(minimumRate)))
            throw new ArgumentOutOfRangeException(nameof(minimumRate), minimumRate, string.Create(CultureInfo.InvariantCulture, $"minimumRate must be a finite number ≥ 0; it is {minimumRate}."));
        Mode = mode;
        Factor = factor;
        Patience = patience;
        Threshold = threshold;
        Cooldown = cooldown;
        MinimumRate = minimumRate;
        ThresholdMode = thresholdMode;
        Best = mode == PlateauMode.Minimize ? double.PositiveInfinity : double.NegativeInfinity;
    }

    /// <summary>Minimize or Maximize.</summary>
    public PlateauMode Mode { get; }

    /// <summary>Multiplier of the rate at a reduction.</summary>
    public float Factor { get; }

    /// <summary>Bad epochs tolerated before a reduction.</summary>
    public int Patience { get; }

    /// <summary>Least improvement that counts.</summary>
    public double Threshold { get; }

    /// <summary>Epochs after a reduction during which bad epochs are not counted.</summary>
    public int Cooldown { get; }

    /// <summary>Lower bound of the rate.</summary>
    public float MinimumRate { get; }

    /// <summary>Relative or absolute threshold.</summary>
    public PlateauThreshold ThresholdMode { get; }

    /// <summary>The best metric so far (±∞ before the first update); settable to restore a checkpoint.</summary>
    public double Best { get; set; }

    /// <summary>Consecutive epochs without improvement (PyTorch's <c>num_bad_epochs</c>); settable to restore a checkpoint.</summary>
    public int BadEpochs
    {
        get => _badEpochs;
        set => _badEpochs = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(BadEpochs), value, "BadEpochs must be ≥ 0.");
    }

    /// <summary>Epochs of cooldown left (PyTorch's <c>cooldown_counter</c>); settable to restore a checkpoint.</summary>
    public int CooldownCounter
    {
        get => _cooldownCounter;
        set => _cooldownCounter = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(CooldownCounter), value, "CooldownCounter must be ≥ 0.");
    }

    /// <summary>Records one epoch's metric and returns the rate to use from now on (<paramref name="currentRate"/> or lower).</summary>
    public float Update(double metric, float currentRate)
    {
        if (!(currentRate > 0 && float.IsFinite(currentRate)))
            throw new ArgumentOutOfRangeException(nameof(currentRate), currentRate,
                string.Create(CultureInfo.InvariantCulture, $"currentRate must be a finite number > 0; it is {currentRate}."));
        if (IsBetter(metric))
        {
            Best = metric;
            _badEpochs = 0;
        }
        else
        {
            _badEpochs++;
        }
        if (_cooldownCounter > 0)
        {
            _cooldownCounter--;
            _badEpochs = 0;
        }
        if (_badEpochs <= Patience) return currentRate;
        _cooldownCounter = Cooldown;
        _badEpochs = 0;
        double reduced = Math.Max((double)currentRate * Factor, MinimumRate);
        return currentRate - reduced > Epsilon ? (float)reduced : currentRate;
    }

    private bool IsBetter(double metric) => (Mode, ThresholdMode) switch
    {
        (PlateauMode.Minimize, PlateauThreshold.Relative) => metric < Best * (1 - Threshold),
        (PlateauMode.Minimize, PlateauThreshold.Absolute) => metric < Best - Threshold,
        (PlateauMode.Maximize, PlateauThreshold.Relative) => metric > Best * (Threshold + 1),
        _ => metric > Best + Threshold,
    };
}
