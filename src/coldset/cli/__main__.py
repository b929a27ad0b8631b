from coldset.cli import main

main()
