<#
.SYNOPSIS
  Build Restyle's Windows installer: the PyInstaller bundle dist\restyle\, its frozen self-test, then
  dist\restyle-VERSION-windows-x64-FLAVOUR-setup.exe with Inno Setup 6.

.DESCRIPTION
  Run from a PowerShell prompt on Windows 10/11 x64, in the repository:
      powershell -ExecutionPolicy Bypass -File packaging\windows\build_windows.ps1
  Needs: Python 3.10-3.13 (python.org or `py` launcher) and Inno Setup 6 (ISCC.exe; winget install
  JRSoftware.InnoSetup). It makes its own virtualenv (.venv-win by default).

  Torch flavour: the default is the CPU wheel from PyPI's Windows index. For CUDA, pass the torch requirement:
      ... build_windows.ps1 -Torch "torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128" -Venv .venv-cuda
  docs\PACKAGING.md gives the sizes to expect.
#>
param(
    [string]$Torch = "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu",
    [string]$Venv = ".venv-win",
    [string]$Python = "py",
    [string]$Iscc = ""
)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")

function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

# 1. The virtualenv: torch first (the flavour), then Restyle and PyInstaller.
if (-not (Test-Path "$Venv\Scripts\python.exe")) {
    if ($Python -eq "py") { Invoke-Checked "py" @("-3", "-m", "venv", $Venv) }
    else { Invoke-Checked $Python @("-m", "venv", $Venv) }
}
$py = Resolve-Path "$Venv\Scripts\python.exe"
& $py -c "import torch" 2>$null
if ($LASTEXITCODE -ne 0) {
    Invoke-Checked $py (@("-m", "pip", "install", "--disable-pip-version-check") + ($Torch -split " "))
}
Invoke-Checked $py @("-m", "pip", "install", "--disable-pip-version-check", "-e", ".", "pyinstaller>=6,<7")
$flavour = & $py -c "import torch; v = torch.version.cuda; print('cu' + v.replace('.', '') if v else 'cpu')"
$version = & $py -c "import desktop; print(desktop.__version__)"
Write-Host "Restyle $version, torch flavour $flavour"

# 2. Icons (build\icons\restyle.ico is used by the spec and by the installer), then the bundle.
Invoke-Checked $py @("packaging\make_icons.py")
$started = Get-Date
Invoke-Checked $py @("-m", "PyInstaller", "--noconfirm", "--clean", "--distpath", "dist", "--workpath", "build",
                     "packaging\restyle.spec")
# Precompiled sources: see build_linux.sh (transformers and diffusers ship as .py for their lazy imports).
& $py -m compileall -q -j 0 --invalidation-mode unchecked-hash dist\restyle\_internal\transformers `
    dist\restyle\_internal\diffusers | Out-Null
Write-Host ("bundle built in {0:N0} s" -f ((Get-Date) - $started).TotalSeconds)

# 3. The frozen self-test through the console executable (the windowed restyle.exe has no stdout).
$check = Join-Path $env:TEMP ("restyle-check-" + [guid]::NewGuid())
$env:HF_HUB_OFFLINE = "1"
& dist\restyle\restyle-cli.exe --self-test --data-dir $check
if ($LASTEXITCODE -ne 0) { throw "the frozen self-test failed (log: $check\logs\restyle.log)" }
Remove-Item -Recurse -Force $check

# 4. The installer.
if (-not $Iscc) {
    $cmd = Get-Command ISCC.exe -ErrorAction SilentlyContinue
    $Iscc = if ($cmd) { $cmd.Source } else {
        @("$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe", "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe",
          "$env:ProgramFiles\Inno Setup 6\ISCC.exe") | Where-Object { Test-Path $_ } | Select-Object -First 1
    }
}
if (-not $Iscc) { throw "Inno Setup 6 not found: winget install JRSoftware.InnoSetup, or pass -Iscc PATH\ISCC.exe" }
Invoke-Checked $Iscc @("/DAppVersion=$version", "/DFlavour=$flavour", "packaging\windows\restyle.iss")
Get-ChildItem "dist\restyle-$version-windows-x64-$flavour-setup*" | ForEach-Object {
    Write-Host ("{0}: {1:N0} MB" -f $_.Name, ($_.Length / 1MB))
}
