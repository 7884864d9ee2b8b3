// Writes the training_*.json fixtures: torch.optim trajectories, loss values and gradients, clip_grad_norm_, and
// learning-rate schedulers, compared by the tests in tests/MlNet.Rnn.Core.Tests/Training/ (OptimizerTests, LossTests,
// GradientClippingTests, ScheduleTests, through TrainingFixture).
//
// The files use the header of FixtureWriter (sizes 0) so TorchFixture.Parse reads them; the settings of each case are in
// the "config" object, and the tensors are named "<case>.<what>". Every hyperparameter is a float32 value widened to
// double, so PyTorch's double arithmetic on them (1 − β1, lr / (1 − β1ᵗ)) starts from the very floats our code holds.

using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace MlNet.Rnn.Parity.Fixtures;

internal static class TrainingFixtures
{
    private const int ParameterCount = 37;   // several vector widths plus a tail
    private const int OptimizerSteps = 10;

    public static void Write(string outDir)
    {
        Save(outDir, "training_optimizers", Optimizers());
        Save(outDir, "training_losses", Losses());
        Save(outDir, "training_clipping", Clipping());
        Save(outDir, "training_schedules", Schedules());
    }

    private static void Save(string outDir, string name, string json)
    {
        var file = Path.Combine(outDir, name + ".json");
        File.WriteAllText(file, json);
        Console.WriteLine($"  {name}.json  {new FileInfo(file).Length,8} bytes");
    }

    private static FixtureWriter Begin(string name, string kind, Action<Utf8JsonWriter> config)
    {
        var w = new FixtureWriter();
        w.Header(name, kind, "", 0, 0, 0, false, 0, 0, null);
        w.Extra(writer =>
        {
            writer.WriteStartObject("config");
            config(writer);
            writer.WriteEndObject();
        });
        w.BeginTensors();
        return w;
    }

    // ---- optimizers: 10 steps from fixed parameters with a fixed sequence of gradients ----

    private sealed record OptimizerCase(string Name, string Kind, float Lr, float Momentum = 0, float Dampening = 0, bool Nesterov = false,
        float WeightDecay = 0, float Beta1 = 0.9f, float Beta2 = 0.999f, float Eps = 1e-8f, float Alpha = 0.99f, bool Centered = false);

    private static readonly OptimizerCase[] OptimizerCases =
    [
        new("sgd_plain", "sgd", 0.1f),
        new("sgd_momentum_nesterov_wd", "sgd", 0.05f, Momentum: 0.9f, Nesterov: true, WeightDecay: 0.01f),
        new("sgd_momentum_dampening", "sgd", 0.05f, Momentum: 0.8f, Dampening: 0.25f),
        new("adam_wd", "adam", 0.01f, WeightDecay: 0.05f),
        new("adam_betas", "adam", 0.02f, Beta1: 0.8f, Beta2: 0.99f, Eps: 1e-6f),
        new("adamw", "adamw", 0.01f, WeightDecay: 0.1f),
        new("rmsprop", "rmsprop", 0.01f),
        new("rmsprop_centered_momentum_wd", "rmsprop", 0.01f, Momentum: 0.9f, WeightDecay: 0.01f, Eps: 1e-6f, Alpha: 0.9f, Centered: true),
    ];

    private static string Optimizers()
    {
        torch.manual_seed(701);
        var initial = torch.randn(ParameterCount);
        var gradients = torch.randn(OptimizerSteps, ParameterCount) * 0.5;
        var w = Begin("training_optimizers", "training_optimizers", writer =>
        {
            foreach (var c in OptimizerCases)
            {
                writer.WriteStartObject(c.Name);
                writer.WriteString("optimizer", c.Kind);
                writer.WriteNumber("lr", c.Lr);
                writer.WriteNumber("momentum", c.Momentum);
                writer.WriteNumber("dampening", c.Dampening);
                writer.WriteBoolean("nesterov", c.Nesterov);
                writer.WriteNumber("weight_decay", c.WeightDecay);
                writer.WriteNumber("beta1", c.Beta1);
                writer.WriteNumber("beta2", c.Beta2);
                writer.WriteNumber("eps", c.Eps);
                writer.WriteNumber("alpha", c.Alpha);
                writer.WriteBoolean("centered", c.Centered);
                writer.WriteEndObject();
            }
        });
        w.Tensor("initial", initial);
        w.Tensor("gradients", gradients);
        foreach (var c in OptimizerCases)
        {
            using var scope = torch.NewDisposeScope();
            var parameter = new TorchSharp.Modules.Parameter(initial.clone());
            var parameters = new[] { parameter };
            optim.Optimizer optimizer = c.Kind switch
            {
                "sgd" => optim.SGD(parameters, c.Lr, c.Momentum, c.Dampening, c.WeightDecay, c.Nesterov),
                "adam" => optim.Adam(parameters, c.Lr, c.Beta1, c.Beta2, c.Eps, c.WeightDecay),
                "adamw" => optim.AdamW(parameters, c.Lr, c.Beta1, c.Beta2, c.Eps, c.WeightDecay),
                "rmsprop" => optim.RMSProp(parameters, c.Lr, c.Alpha, c.Eps, c.WeightDecay, c.Momentum, c.Centered),
                _ => throw new InvalidOperationException(c.Kind),
            };
            var trajectory = new List<float>();
            for (int step = 0; step < OptimizerSteps; step++)
            {
                optimizer.zero_grad();
                (parameter * gradients[step]).sum().backward();   // parameter.grad = gradients[step], exactly
                optimizer.step();
                trajectory.AddRange(parameter.detach().data<float>().ToArray());
            }
            w.Tensor(c.Name + ".trajectory", [OptimizerSteps, ParameterCount], trajectory.ToArray());
        }
        return w.Finish();
    }

    // ---- losses: value and gradient, PyTorch's mean reduction, and our row-weighted mean written with torch ops ----

    private static string Losses()
    {
        const int rows = 6, width = 3, classes = 4;
        torch.manual_seed(702);
        var prediction = torch.randn(rows, width) * 2;
        var regressionTarget = torch.randn(rows, width) * 2;
        var logits = torch.tensor(new float[] { 0.3f, -1.2f, 2.5f, 18f, -22f, 0.05f, -0.7f, 1.4f, 25f, -30f, 0f, 3.1f, 0.9f, -0.4f, 0.2f, -9f, 12f, -0.01f }, [rows, width]);
        var binaryTarget = torch.tensor(new float[] { 1, 0, 1, 0, 1, 0.25f, 1, 1, 0, 0.5f, 0, 1, 0, 0, 1, 1, 0.75f, 0 }, [rows, width]);
        var classLogits = torch.randn(rows, classes) * 1.5;
        var classTarget = torch.tensor(new long[] { 2, 0, 3, 3, 1, 2 });
        var rowWeights = torch.tensor(new float[] { 1f, 0.5f, 0f, 2f, 1.5f, 0f });
        var columnPositiveWeights = torch.tensor(new float[] { 2f, 0.5f, 3f });
        var classWeights = torch.tensor(new float[] { 0.5f, 2f, 1f, 1.5f });
        const float huberDelta = 0.7f, smoothing = 0.2f;

        var cases = new List<(string Name, string Loss, Tensor Prediction, Tensor Target, Tensor? Weights, Func<Tensor, Tensor> Value, Action<Utf8JsonWriter> Settings)>
        {
            ("mse_mean", "mse", prediction, regressionTarget, null, p => nn.functional.mse_loss(p, regressionTarget), _ => { }),
            ("mse_weighted", "mse", prediction, regressionTarget, rowWeights,
                p => Weighted(nn.functional.mse_loss(p, regressionTarget, nn.Reduction.None).mean([1]), rowWeights), _ => { }),
            ("huber_mean", "huber", prediction, regressionTarget, null, p => nn.functional.huber_loss(p, regressionTarget, huberDelta), s => s.WriteNumber("delta", huberDelta)),
            ("huber_weighted", "huber", prediction, regressionTarget, rowWeights,
                p => Weighted(nn.functional.huber_loss(p, regressionTarget, huberDelta, nn.Reduction.None).mean([1]), rowWeights), s => s.WriteNumber("delta", huberDelta)),
            ("bce_mean", "bce", logits, binaryTarget, null, p => nn.functional.binary_cross_entropy_with_logits(p, binaryTarget), _ => { }),
            ("bce_pos_weight_scalar", "bce", logits, binaryTarget, null,
                p => nn.functional.binary_cross_entropy_with_logits(p, binaryTarget, pos_weights: torch.tensor(new float[] { 2.5f })), s => s.WriteNumber("pos_weight", 2.5f)),
            ("bce_pos_weight_columns_weighted", "bce", logits, binaryTarget, rowWeights,
                p => Weighted(nn.functional.binary_cross_entropy_with_logits(p, binaryTarget, reduction: nn.Reduction.None, pos_weights: columnPositiveWeights).mean([1]), rowWeights),
                s => WriteArray(s, "pos_weights", columnPositiveWeights)),
            ("ce_mean", "ce", classLogits, classTarget, null, p => nn.functional.cross_entropy(p, classTarget), _ => { }),
            ("ce_class_weights", "ce", classLogits, classTarget, null, p => nn.functional.cross_entropy(p, classTarget, classWeights),
                s => WriteArray(s, "class_weights", classWeights)),
            ("ce_label_smoothing", "ce", classLogits, classTarget, null, p => nn.functional.cross_entropy(p, classTarget, label_smoothing: smoothing),
                s => s.WriteNumber("label_smoothing", smoothing)),
            ("ce_class_weights_label_smoothing", "ce", classLogits, classTarget, null,
                p => nn.functional.cross_entropy(p, classTarget, classWeights, label_smoothing: smoothing),
                s => { WriteArray(s, "class_weights", classWeights); s.WriteNumber("label_smoothing", smoothing); }),
            // Row weights on top of PyTorch's per-row terms: Σ w_r·l_r / Σ w_r·c_(y_r).
            ("ce_class_weights_label_smoothing_weighted", "ce", classLogits, classTarget, rowWeights,
                p => (nn.functional.cross_entropy(p, classTarget, classWeights, reduction: nn.Reduction.None, label_smoothing: smoothing) * rowWeights).sum()
                     / (classWeights.index_select(0, classTarget) * rowWeights).sum(),
                s => { WriteArray(s, "class_weights", classWeights); s.WriteNumber("label_smoothing", smoothing); }),
        };

        var w = Begin("training_losses", "training_losses", writer =>
        {
            foreach (var c in cases)
            {
                writer.WriteStartObject(c.Name);
                writer.WriteString("loss", c.Loss);
                c.Settings(writer);
                writer.WriteEndObject();
            }
        });
        foreach (var c in cases)
        {
            using var scope = torch.NewDisposeScope();
            var p = c.Prediction.detach().clone().requires_grad_(true);
            var value = c.Value(p);
            value.backward();
            w.Tensor(c.Name + ".prediction", p);
            w.Tensor(c.Name + ".target", c.Target.to_type(ScalarType.Float32));
            if (c.Weights is not null) w.Tensor(c.Name + ".weights", c.Weights);
            w.Tensor(c.Name + ".loss", value.reshape(1));
            w.Tensor(c.Name + ".gradient", p.grad!);
        }
        return w.Finish();
    }

    private static Tensor Weighted(Tensor rowLosses, Tensor weights) => (rowLosses * weights).sum() / weights.sum();

    private static void WriteArray(Utf8JsonWriter writer, string name, Tensor values)
    {
        writer.WriteStartArray(name);
        foreach (var v in values.data<float>().ToArray()) writer.WriteNumberValue(v);
        writer.WriteEndArray();
    }

    // ---- clip_grad_norm_ over two parameters (the norm is global across tensors) ----

    private static string Clipping()
    {
        torch.manual_seed(703);
        var gradients = torch.randn(ParameterCount) * 3;
        var cases = new (string Name, float MaxNorm)[] { ("clip_norm_1", 1f), ("clip_norm_large", 1000f) };
        var w = Begin("training_clipping", "training_clipping", writer =>
        {
            foreach (var (name, maxNorm) in cases) writer.WriteNumber(name, maxNorm);
        });
        w.Tensor("gradients", gradients);
        foreach (var (name, maxNorm) in cases)
        {
            using var scope = torch.NewDisposeScope();
            var first = new TorchSharp.Modules.Parameter(torch.zeros(20));
            var second = new TorchSharp.Modules.Parameter(torch.zeros(ParameterCount - 20));
            ((first * gradients[..20]).sum() + (second * gradients[20..]).sum()).backward();
            double norm = nn.utils.clip_grad_norm_(new[] { first, second }, maxNorm);
            w.Tensor(name + ".norm", [1], [(float)norm]);
            w.Tensor(name + ".clipped", torch.cat([first.grad!, second.grad!]));
        }
        return w.Finish();
    }

    // ---- learning-rate schedulers: the rate of each epoch ----

    private static string Schedules()
    {
        var metrics = new float[] { 1.0f, 0.9f, 0.95f, 0.91f, 0.905f, 0.9f, 0.8f, 0.85f, 0.84f, 0.83f, 0.82f, 0.81f, 0.812f, 0.79f, 0.791f, 0.792f, 0.793f, 0.794f, 0.6f, 0.61f, 0.62f, 0.63f, 0.64f, 0.65f };
        var accuracies = new float[] { 0.5f, 0.6f, 0.62f, 0.64f, 0.7f, 0.71f, 0.72f, 0.8f, 0.79f, 0.81f, 0.82f, 0.9f, 0.88f, 0.89f, 0.9f, 0.91f };
        const float stepBase = 0.1f, stepGamma = 0.5f, cosineBase = 0.1f, cosineMinimum = 0.001f;
        const int stepSize = 3, stepEpochs = 12, cosineMax = 10;

        var w = Begin("training_schedules", "training_schedules", writer =>
        {
            writer.WriteStartObject("plateau_min");
            writer.WriteString("mode", "min"); writer.WriteNumber("factor", 0.5f); writer.WriteNumber("patience", 2); writer.WriteNumber("threshold", 0.01f);
            writer.WriteString("threshold_mode", "rel"); writer.WriteNumber("cooldown", 1); writer.WriteNumber("min_lr", 0.1f); writer.WriteNumber("lr", 1f);
            writer.WriteEndObject();
            writer.WriteStartObject("plateau_max_abs");
            writer.WriteString("mode", "max"); writer.WriteNumber("factor", 0.1f); writer.WriteNumber("patience", 1); writer.WriteNumber("threshold", 0.015f);
            writer.WriteString("threshold_mode", "abs"); writer.WriteNumber("cooldown", 0); writer.WriteNumber("min_lr", 0f); writer.WriteNumber("lr", 1f);
            writer.WriteEndObject();
            writer.WriteStartObject("step_lr");
            writer.WriteNumber("lr", stepBase); writer.WriteNumber("step_size", stepSize); writer.WriteNumber("gamma", stepGamma);
            writer.WriteEndObject();
            writer.WriteStartObject("cosine");
            writer.WriteNumber("lr", cosineBase); writer.WriteNumber("T_max", cosineMax); writer.WriteNumber("eta_min", cosineMinimum);
            writer.WriteEndObject();
        });

        w.Tensor("plateau_min.metrics", [metrics.Length], metrics);
        w.Tensor("plateau_min.lr", [metrics.Length], Plateau(metrics, "min", 0.5f, 2, 0.01f, "rel", 1, 0.1f));
        w.Tensor("plateau_max_abs.metrics", [accuracies.Length], accuracies);
        w.Tensor("plateau_max_abs.lr", [accuracies.Length], Plateau(accuracies, "max", 0.1f, 1, 0.015f, "abs", 0, 0f));

        using (var scope = torch.NewDisposeScope())
        {
            var optimizer = optim.SGD(new[] { new TorchSharp.Modules.Parameter(torch.zeros(1)) }, stepBase);
            var scheduler = optim.lr_scheduler.StepLR(optimizer, stepSize, stepGamma);
            var rates = new float[stepEpochs];
            for (int epoch = 0; epoch < stepEpochs; epoch++)
            {
                rates[epoch] = (float)optimizer.ParamGroups.First().LearningRate;
                optimizer.step();
                scheduler.step();
            }
            w.Tensor("step_lr.lr", [stepEpochs], rates);
        }

        using (var scope = torch.NewDisposeScope())
        {
            var optimizer = optim.SGD(new[] { new TorchSharp.Modules.Parameter(torch.zeros(1)) }, cosineBase);
            var scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, cosineMax, cosineMinimum);
            var rates = new float[cosineMax + 1];
            for (int t = 0; t <= cosineMax; t++)
            {
                rates[t] = (float)optimizer.ParamGroups.First().LearningRate;
                optimizer.step();
                scheduler.step();
            }
            w.Tensor("cosine.lr", [cosineMax + 1], rates);
        }
        return w.Finish();
    }

    private static float[] Plateau(float[] metrics, string mode, float factor, int patience, float threshold, string thresholdMode, int cooldown, float minimum)
    {
        using var scope = torch.NewDisposeScope();
        var optimizer = optim.SGD(new[] { new TorchSharp.Modules.Parameter(torch.zeros(1)) }, 1.0);
        var scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode, factor, patience, threshold, thresholdMode, cooldown, [minimum]);
        var rates = new float[metrics.Length];
        for (int epoch = 0; epoch < metrics.Length; epoch++)
        {
            scheduler.step(metrics[epoch]);
            rates[epoch] = (float)optimizer.ParamGroups.First().LearningRate;
        }
        return rates;
    }
}
