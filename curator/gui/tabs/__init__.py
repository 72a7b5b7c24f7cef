"""The job tabs docked below the browser: Caption, Export and Train, each a package."""
