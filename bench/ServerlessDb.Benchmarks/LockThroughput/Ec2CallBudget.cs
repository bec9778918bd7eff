using System.Net;
using System.Text;

namespace ServerlessDb.Benchmarks.LockThroughput;

/// <summary>
/// EC2's request throttling, modelled in front of moto (which has none): one token bucket for the
/// whole account and Region, shared by every writer's EC2 client, refilled at <see cref="RefillPerSecond"/>
/// (EC2 documents about 5 per second for mutating actions). A mutating call (CreateSecurityGroup,
/// DeleteSecurityGroup) that finds the bucket empty is not sent: it is answered as EC2 answers it,
/// HTTP 503 <c>RequestLimitExceeded</c>, and the lock's own retry (backoff with jitter) takes over.
/// Describe calls are not counted, as EC2 gives them buckets of their own.
/// </summary>
internal sealed class Ec2CallBudget
{
    private readonly object _gate = new();
    private readonly TimeProvider _time = TimeProvider.System;
    private double _tokens;
    private long _refilledAt;

    public Ec2CallBudget(double refillPerSecond, double capacity)
    {
        RefillPerSecond = refillPerSecond;
        Capacity = capacity;
        _tokens = capacity;
        _refilledAt = _time.GetTimestamp();
    }

    public double RefillPerSecond { get; }

    public double Capacity { get; }

    public int Allowed { get; private set; }

    public int Throttled { get; private set; }

    public bool TryTake()
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            _tokens = Math.Min(Capacity, _tokens + (_time.GetElapsedTime(_refilledAt, now).TotalSeconds * RefillPerSecond));
            _refilledAt = now;
            if (_tokens >= 1)
            {
                _tokens -= 1;
                Allowed++;
                return true;
            }

            Throttled++;
            return false;
        }
    }

    /// <summary>The handler to put in an EC2 client's HttpClient.</summary>
    public DelegatingHandler Handler() => new Throttling(this) { InnerHandler = new SocketsHttpHandler() };

    private sealed class Throttling(Ec2CallBudget budget) : DelegatingHandler
    {
        private const string ThrottledBody =
            """<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>00000000-0000-0000-0000-0000000b0d9e</RequestID></Response>""";

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var form = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
            var mutating = form.Contains("Action=CreateSecurityGroup", StringComparison.Ordinal) || form.Contains("Action=DeleteSecurityGroup", StringComparison.Ordinal);
            if (mutating && !budget.TryTake())
            {
                return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                {
                    Content = new StringContent(ThrottledBody, Encoding.UTF8, "text/xml"),
                    RequestMessage = request,
                };
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
