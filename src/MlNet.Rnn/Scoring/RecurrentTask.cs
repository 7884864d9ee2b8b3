namespace MlNet.Rnn.Scoring;

/// <summary>What a recurrent model predicts; fixes its loss, its head's width and its output columns. Stored in saved models by number.</summary>
internal enum RecurrentTask
{
    /// <summary>One logit: Score, Probability = sigmoid(Score), PredictedLabel = Score &gt; 0.</summary>
    BinaryClassification = 0,
    /// <summary>C logits: Score = softmax vector, PredictedLabel = the label's key of the largest.</summary>
    MulticlassClassification = 1,
    /// <summary>One value: Score.</summary>
    Regression = 2,
    /// <summary>C logits per step: Score = softmax per step [T·C], PredictedLabel = the label's key of the largest, per step [T].</summary>
    SequenceTagging = 3,
}
