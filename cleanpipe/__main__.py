from cleanpipe.cli import main

main()
