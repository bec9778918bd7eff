using System.Net;

namespace ServerlessDb.Locking.Ec2;

/// <summary>
/// An EC2 call failed: EC2 answered with an error (<see cref="Code"/> as EC2 spells it) or the
/// request did not get an answer at all (<see cref="Ec2ErrorKind.Transient"/>, no status).
/// </summary>
public sealed class Ec2Exception : Exception
{
    /// <summary>The <see cref="Code"/> of a failure that never reached EC2 or got no readable answer.</summary>
    public const string TransportErrorCode = "Transport";

    public Ec2Exception(
        string action,
        string code,
        string errorMessage,
        Ec2ErrorKind kind,
        HttpStatusCode? statusCode = null,
        string? requestId = null,
        Exception? innerException = null)
        : base(FormatMessage(action, code, errorMessage, statusCode, requestId), innerException)
    {
        Action = action;
        Code = code;
        ErrorMessage = errorMessage;
        StatusCode = statusCode;
        RequestId = requestId;
        Kind = kind;
    }

    /// <summary>The EC2 action that failed, for example <c>CreateSecurityGroup</c>.</summary>
    public string Action { get; }

    /// <summary>The error code EC2 returned, for example <c>InvalidGroup.Duplicate</c>.</summary>
    public string Code { get; }

    /// <summary>EC2's own message, verbatim.</summary>
    public string ErrorMessage { get; }

    /// <summary>The HTTP status of the answer; null when there was none.</summary>
    public HttpStatusCode? StatusCode { get; }

    public string? RequestId { get; }

    public Ec2ErrorKind Kind { get; }

    /// <summary>True when trying again later may succeed (throttling, network, server errors).</summary>
    public bool IsTransient => Kind is Ec2ErrorKind.Throttling or Ec2ErrorKind.Transient;

    private static string FormatMessage(string action, string code, string errorMessage, HttpStatusCode? statusCode, string? requestId)
    {
        var status = statusCode is { } s ? $"HTTP {(int)s}" : "no HTTP response";
        var request = requestId is null ? string.Empty : $", request id {requestId}";
        return $"EC2 {action} failed with {code}: {errorMessage} ({status}{request})";
    }
}
