namespace ServerlessDb.Logging;

/// <summary>Where structured log lines go (stdout in Lambda, where CloudWatch picks them up).</summary>
public interface ILogSink
{
    /// <summary>Writes one complete JSON object as one line.</summary>
    void Write(string jsonLine);
}
