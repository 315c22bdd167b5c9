Msiexec /p MicrosoftDynamicsGP18-KB4602612-ENU.msp /l\*v C:\\MSPErrorlog.txt
