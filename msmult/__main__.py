from msmult.cli import main

main()
