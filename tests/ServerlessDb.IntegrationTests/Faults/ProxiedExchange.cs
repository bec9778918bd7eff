namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>
/// One request through the <see cref="FaultProxy"/> and what it did: the rule that acted (if any),
/// whether moto received it and what moto answered (<see cref="Landed"/>), and what the client got:
/// <see cref="ResponseBytes"/> is the bytes of the answer's body the proxy sent the client.
/// </summary>
public sealed record ProxiedExchange(
    int Sequence,
    ProxiedRequest Request,
    IReadOnlyDictionary<string, string> Headers,
    FaultKind? Fault,
    int? UpstreamStatus,
    string ClientSaw,
    long ResponseBytes = 0)
{
    /// <summary>moto received the request and answered it (whatever the client then saw).</summary>
    public bool Forwarded => UpstreamStatus is not null;

    /// <summary>moto answered 2xx: for a PUT, the object was written.</summary>
    public bool Landed => UpstreamStatus is >= 200 and < 300;

    public override string ToString() =>
        $"#{Sequence} {Request.Method} {Request.Path}{(Request.Range is { } range ? " " + range : "")}{(Request.Ec2Action is { } a ? " " + a : "")}: " +
        $"{(Fault is { } f ? f + ", " : "")}moto {(UpstreamStatus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-")}, client {ClientSaw}";
}
