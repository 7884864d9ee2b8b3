namespace MlNet.Rnn.Core.Tests.Tagging;

/// <summary>
/// The one check of a refusal case of the tagging check tests: the call throws exactly <c>type</c>, naming
/// <c>parameter</c> (null: none, or not an <see cref="ArgumentException"/>), with <c>message</c> (null: any).
/// </summary>
internal static class RefusalCheck
{
    public static void AssertRefused(string refusal, Action call, Type type, string? parameter, string? message)
    {
        var exception = Record.Exception(call);
        Assert.True(exception is not null, $"{refusal}: nothing was thrown.");
        Assert.True(exception.GetType() == type, $"{refusal}: threw {exception.GetType().Name} ({exception.Message}); expected {type.Name}.");
        Assert.Equal(parameter, (exception as ArgumentException)?.ParamName);
        if (message is not null)
            Assert.Equal(parameter is null ? message : $"{message} (Parameter '{parameter}')", exception.Message);
    }
}
