using System.Net.Sockets;

namespace ServerlessDb.Resilience;

/// <summary>
/// Tells a request that got no answer (the connection failed, broke or timed out) from one that got an
/// answer: the first may or may not have been carried out, and another attempt may succeed.
/// </summary>
internal static class NetworkFailures
{
    /// <summary>True when <paramref name="exception"/> or any exception under it is a network failure.</summary>
    public static bool HasNetworkCause(Exception? exception)
    {
        for (var cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (IsNetworkError(cause))
            {
                return true;
            }
        }

        return false;
    }

    // FileNotFound and DirectoryNotFound are IOExceptions too, but no retry will make a file appear.
    public static bool IsNetworkError(Exception exception) => exception is HttpRequestException or SocketException
        or TimeoutException or (IOException and not FileNotFoundException and not DirectoryNotFoundException);
}
