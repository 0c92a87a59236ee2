from openfr.cli import main

main()
