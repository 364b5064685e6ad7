"""The course machinery: profiles and run folders, the runner, recorded metrics, the question bank, interview
checkpoints, the quiz, the cheat sheet and the latent explorer widget. The library never imports it."""
