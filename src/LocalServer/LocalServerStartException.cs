namespace LocalServer;

/// <summary>The local server could not start; the message is one line saying why and what to do.</summary>
public sealed class LocalServerStartException(string message, Exception? innerException = null)
    : Exception(message, innerException);
