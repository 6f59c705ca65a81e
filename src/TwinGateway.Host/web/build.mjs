// Bundles the web console's script and styles (our code and uPlot from the lockfile) into dist/, which the gateway
// serves from /assets/. Run by the gateway's build (TwinGateway.Host.csproj, target BundleWebConsole); no CDN at run time.
import * as esbuild from "esbuild";

await esbuild.build({
  entryPoints: { console: "src/console.js" },
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  target: ["es2020"],
  outdir: "dist",
  logLevel: "warning",
  legalComments: "linked",
});
