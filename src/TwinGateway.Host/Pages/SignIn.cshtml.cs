using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TwinGateway.Commissioning.Identity;
using TwinGateway.Host.Web;

namespace TwinGateway.Host.Pages;

/// <summary>Sign-in with a gateway user and its API token; a mismatch says which, without telling which users exist.</summary>
[AllowAnonymous]
internal sealed partial class SignInModel(IUserStore users, ILogger<SignInModel> log) : PageModel
{
    [BindProperty(Name = "User")]
    public string? UserName { get; set; }

    [BindProperty]
    public string? Token { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnPostAsync()
    {
        if (string.IsNullOrWhiteSpace(UserName) || string.IsNullOrWhiteSpace(Token))
        {
            Error = string.IsNullOrWhiteSpace(UserName) ? "User is empty: type your gateway user name." : "Token is empty: paste the API token that `twingw users add` printed.";
            Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status400BadRequest;
            return Page();
        }

        UserRecord? user;
        try
        {
            user = await users.FindByTokenAsync(Token.Trim(), HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (UserStoreException ex)
        {
            Error = $"The gateway cannot check tokens now: {ex.Message}";
            Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status503ServiceUnavailable;
            return Page();
        }

        if (user is null || !string.Equals(user.Name, UserName.Trim(), StringComparison.Ordinal))
        {
            Refused(log, UserName.Trim(), HttpContext.Connection.RemoteIpAddress?.ToString() ?? "local socket");
            Error = "That user and token do not match a gateway user (a mistyped token, another user's token, or a removed user).";
            Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status401Unauthorized;
            return Page();
        }

        await WebWiring.SignInAsync(HttpContext, user, Token.Trim()).ConfigureAwait(false);
        SignedIn(log, user.Name);
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/lines");
    }

    [LoggerMessage(EventId = 4432, Level = LogLevel.Information, Message = "Web console: {User} signed in")]
    private static partial void SignedIn(ILogger logger, string user);

    [LoggerMessage(EventId = 4433, Level = LogLevel.Warning, Message = "Web console: refused a sign-in as {User} from {Peer}: user and token do not match")]
    private static partial void Refused(ILogger logger, string user, string peer);
}

/// <summary>Ends the session (POST only, with the antiforgery token, so a link elsewhere cannot sign anyone out).</summary>
[AllowAnonymous]
internal sealed class SignOutModel : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/signin");

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
        return LocalRedirect("/signin");
    }
}
