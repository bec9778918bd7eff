using Microsoft.AspNetCore.Http;

namespace WebConsole;

/// <summary>Answers a request under <c>/console</c> with the embedded file it names (<c>/console</c> itself redirects to <c>/console/</c>).</summary>
public static class ConsoleEndpoint
{
    public static bool Handles(HttpContext context) =>
        ConsoleAssets.IsConsolePath(context.Request.Path.Value) && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method));

    public static async Task ServeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value!;
        if (path == ConsoleAssets.Root)
        {
            context.Response.Redirect(ConsoleAssets.Root + "/" + context.Request.QueryString);
            return;
        }

        if (ConsoleAssets.Find(path) is not { } asset)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync($"The console has no file {path}.\n", context.RequestAborted);
            return;
        }

        context.Response.ContentType = asset.ContentType;
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        // The page loads only its own files and calls only its own origin.
        context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
        context.Response.ContentLength = asset.Content.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(asset.Content, context.RequestAborted);
        }
    }
}
