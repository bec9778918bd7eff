using System.Net;
using System.Xml;
using System.Xml.Linq;

namespace ServerlessDb.Locking.Ec2;

/// <summary>
/// The one place where EC2's error answers become <see cref="Ec2Exception"/>s: the error codes,
/// their kinds, and the XML error document.
/// </summary>
internal static class Ec2ErrorCodes
{
    public const string GroupDuplicate = "InvalidGroup.Duplicate";
    public const string GroupNotFound = "InvalidGroup.NotFound";
    public const string DependencyViolation = "DependencyViolation";
    public const string RequestLimitExceeded = "RequestLimitExceeded";
    public const string UnauthorizedOperation = "UnauthorizedOperation";

    // botocore's standard retry mode treats these as throttling (botocore/retries/standard.py);
    // EC2 itself answers RequestLimitExceeded.
    private static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        RequestLimitExceeded, "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
        "RequestThrottledException", "TooManyRequestsException", "EC2ThrottledException", "BandwidthLimitExceeded",
        "SlowDown", "PriorRequestNotComplete",
    };

    // EC2's server error codes, and botocore's transient codes.
    private static readonly HashSet<string> TransientCodes = new(StringComparer.Ordinal)
    {
        "InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable", "RequestTimeout", "RequestTimeoutException",
        Ec2Exception.TransportErrorCode,
    };

    private static readonly HashSet<string> AuthFailureCodes = new(StringComparer.Ordinal)
    {
        "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken",
        "ExpiredToken", "RequestExpired", "OptInRequired", "Blocked",
    };

    public static Ec2ErrorKind Classify(string code, HttpStatusCode? statusCode) => code switch
    {
        GroupDuplicate => Ec2ErrorKind.GroupDuplicate,
        GroupNotFound => Ec2ErrorKind.GroupNotFound,
        DependencyViolation => Ec2ErrorKind.DependencyViolation,
        UnauthorizedOperation => Ec2ErrorKind.Unauthorized,
        _ when ThrottlingCodes.Contains(code) || statusCode == HttpStatusCode.TooManyRequests => Ec2ErrorKind.Throttling,
        _ when AuthFailureCodes.Contains(code) => Ec2ErrorKind.AuthFailure,
        _ when TransientCodes.Contains(code) || (int?)statusCode >= 500 => Ec2ErrorKind.Transient,
        _ => Ec2ErrorKind.Other,
    };

    /// <summary>
    /// Reads EC2's error document,
    /// <c>&lt;Response&gt;&lt;Errors&gt;&lt;Error&gt;&lt;Code/&gt;&lt;Message/&gt;&lt;/Error&gt;&lt;/Errors&gt;&lt;RequestID/&gt;&lt;/Response&gt;</c>.
    /// An answer that is not one (a proxy's HTML page, an empty 503) still becomes an exception,
    /// coded by its HTTP status.
    /// </summary>
    public static Ec2Exception FromErrorResponse(string action, HttpStatusCode statusCode, string body)
    {
        XElement? root = null;
        try
        {
            root = XDocument.Parse(body).Root;
        }
        catch (XmlException)
        {
            // Not XML: reported below, with the body, as an error coded by its HTTP status.
        }

        var error = root?.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
        var code = Child(error, "Code");
        if (code is null)
        {
            var snippet = body.Length > 200 ? body[..200] + "..." : body;
            return new Ec2Exception(action, $"Http{(int)statusCode}", $"unexpected answer: {snippet}", statusCode);
        }

        var requestId = Child(root, "RequestID") ?? Child(root, "RequestId");
        return new Ec2Exception(action, code, Child(error, "Message") ?? string.Empty, statusCode, requestId);
    }

    /// <summary>The request got no answer: a network error or a timeout.</summary>
    public static Ec2Exception FromTransportFailure(string action, Exception exception) =>
        new(action, Ec2Exception.TransportErrorCode, exception.Message, statusCode: null, requestId: null, exception);

    private static string? Child(XElement? parent, string localName) =>
        parent?.Elements().FirstOrDefault(e => e.Name.LocalName == localName)?.Value;
}
