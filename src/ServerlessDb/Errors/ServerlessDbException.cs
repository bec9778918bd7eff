
namespace ServerlessDb.Errors;

/// <summary>
/// An expected failure with a message meant for the user. The API turns each subtype into one
/// HTTP status (see <c>Api/ErrorResponses</c>); anything else that escapes is a bug (500).
/// </summary>
public abstract class ServerlessDbException : Exception
{
    protected ServerlessDbException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
