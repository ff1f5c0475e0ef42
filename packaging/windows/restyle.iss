; Inno Setup 6 script for Restyle on Windows: a per-user install (no administrator rights) into
; %LOCALAPPDATA%\Programs\Restyle, a Start-menu entry, an optional desktop icon, and an uninstaller that removes
; the program but never the user's pictures, history or settings (they live in %LOCALAPPDATA%\Restyle and
; Pictures\Restyle, outside {app}).
;
; Built by packaging\windows\build_windows.ps1, which makes dist\restyle\ with PyInstaller and
; build\icons\restyle.ico first, then runs:
;   ISCC.exe /DAppVersion=0.1.0 /DFlavour=cpu packaging\windows\restyle.iss
; Paths below are relative to this file's folder.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef Flavour
  #define Flavour "cpu"
#endif
#define AppName "Restyle"
#define AppExe "restyle.exe"

[Setup]
; The AppId ties upgrades and the uninstaller together: never change it.
AppId={{62D0F79E-0CBB-446D-A63A-BE75B3DE9EA1}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Restyle developers
; Per user: with PrivilegesRequired=lowest, {autopf} is {userpf} = %LOCALAPPDATA%\Programs.
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
UsePreviousAppDir=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
WizardStyle=modern
SetupIconFile=..\..\build\icons\restyle.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
SourceDir=.
OutputDir=..\..\dist
OutputBaseFilename=restyle-{#AppVersion}-windows-x64-{#Flavour}-setup
; torch's DLLs compress well with LZMA2; a non-solid archive keeps the compiler's memory bounded for 1-5 GB.
Compression=lzma2/fast
SolidCompression=no
#if Flavour != "cpu"
; A CUDA bundle compresses to more than Setup.exe can hold (4.2 GB): the data goes into setup-*.bin slices
; beside the .exe; ship them together.
DiskSpanning=yes
DiskSliceSize=max
#endif
; Closing a running Restyle before files are replaced (Restart Manager).
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole PyInstaller onedir bundle: restyle.exe (the window), restyle-cli.exe (console) and _internal\.
Source: "..\..\dist\restyle\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade replaces the bundle wholesale: stale modules from an older version must not linger.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Restyle your own images locally"
; The smoke check, in a console that stays open so its lines can be read.
Name: "{autoprograms}\{#AppName} self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\restyle-cli.exe"" --self-test"; IconFilename: "{app}\{#AppExe}"; Flags: excludefromshowinnewinstall
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
